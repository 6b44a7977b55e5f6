"""Is the microphone echo-cancelled, is the speaker a headset? Asked of PulseAudio/PipeWire
with ``pactl``."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field

LOAD_COMMAND = (
    "pactl load-module module-echo-cancel aec_method=webrtc "
    "source_name=echocancel sink_name=echocancel_sink"
)
"""Loads WebRTC echo cancellation until the sound server restarts."""

PULSE_PERSIST = (
    "~/.config/pulse/default.pa:\n"
    "    .include /etc/pulse/default.pa\n"
    "    load-module module-echo-cancel aec_method=webrtc source_name=echocancel"
    " sink_name=echocancel_sink\n"
    "    set-default-source echocancel\n"
    "    set-default-sink echocancel_sink"
)

PIPEWIRE_PERSIST = """\
~/.config/pipewire/pipewire.conf.d/60-echo-cancel.conf:
    context.modules = [
      { name = libpipewire-module-echo-cancel
        args = { library.name = aec/libspa-aec-webrtc
                 source.props = { node.name = "echocancel" }
                 sink.props = { node.name = "echocancel_sink" } } }
    ]
  then: systemctl --user restart pipewire pipewire-pulse"""


HEADSET_WORDS = ("headset", "headphone", "earphone", "earbud", "airpods", "handsfree", "hands-free")
"""Words in a speaker's name, form factor or port that say it sits on the user's ears."""


@dataclass(frozen=True)
class Sink:
    """One output of the sound server, as ``pactl list sinks`` describes it."""

    name: str
    description: str = ""
    form_factor: str = ""
    """``device.form_factor``: "internal", "speaker", "headset", "headphone", … or ""."""
    active_port: str = ""
    """The port in use, e.g. "analog-output-headphones", or ""."""

    def headset(self) -> str | None:
        """Why this output is a headset, or None when nothing says so."""
        if _headset_word(self.form_factor):
            return f"form factor {self.form_factor!r}"
        if _headset_word(self.active_port):
            return f"port {self.active_port!r}"
        if _headset_word(self.name) or _headset_word(self.description):
            return f"named {self.description or self.name!r}"
        return None


def _headset_word(text: str) -> bool:
    folded = text.casefold()
    return any(word in folded for word in HEADSET_WORDS)


@dataclass(frozen=True)
class SoundServer:
    """What ``pactl`` says about the sound server."""

    name: str
    """"PulseAudio", "PulseAudio (on PipeWire 1.0.5)", … or "" when pactl could not say."""
    default_source: str
    sources: tuple[str, ...]
    echo_modules: int
    """How many echo-cancel modules are loaded."""
    default_sink: str = ""
    sinks: tuple[Sink, ...] = field(default=())

    @property
    def pipewire(self) -> bool:
        """Whether the server is PipeWire's PulseAudio emulation."""
        return "PipeWire" in self.name

    @property
    def echo_sources(self) -> tuple[str, ...]:
        """Sources that look echo-cancelled (module-echo-cancel names them so)."""
        return tuple(s for s in self.sources if "echo" in s.casefold())

    def persist_hint(self) -> str:
        """How to load echo cancellation at every start, for this server."""
        return PIPEWIRE_PERSIST if self.pipewire else PULSE_PERSIST


def _pactl(*args: str) -> str | None:
    program = shutil.which("pactl")
    if program is None:
        return None
    try:
        done = subprocess.run(
            [program, *args], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def sound_server() -> SoundServer | None:
    """Ask ``pactl`` (blocking, at most a few seconds); None when there is no server to ask."""
    info = _pactl("info")
    if info is None:
        return None
    fields = dict(
        line.split(":", 1) for line in info.splitlines() if ":" in line and not line[0].isspace()
    )
    sources = _pactl("list", "short", "sources") or ""
    modules = _pactl("list", "short", "modules") or ""
    return SoundServer(
        name=fields.get("Server Name", "").strip(),
        default_source=fields.get("Default Source", "").strip(),
        sources=tuple(line.split("\t")[1] for line in sources.splitlines() if "\t" in line),
        echo_modules=sum("echo-cancel" in line for line in modules.splitlines()),
        default_sink=fields.get("Default Sink", "").strip(),
        sinks=parse_sinks(_pactl("list", "sinks") or ""),
    )


def parse_sinks(text: str) -> tuple[Sink, ...]:
    """The sinks of ``pactl list sinks`` (its English output; unknown lines are skipped)."""
    sinks: list[Sink] = []
    current: dict[str, str] | None = None
    for line in [*text.splitlines(), "Sink #end"]:
        stripped = line.strip()
        if line.startswith("Sink #"):
            if current is not None and current.get("name"):
                sinks.append(Sink(**current))
            current = {}
        elif current is None:
            continue
        elif stripped.startswith("Name:"):
            current["name"] = stripped.removeprefix("Name:").strip()
        elif stripped.startswith("Description:"):
            current["description"] = stripped.removeprefix("Description:").strip()
        elif stripped.startswith("Active Port:"):
            current["active_port"] = stripped.removeprefix("Active Port:").strip()
        elif stripped.startswith("device.form_factor ="):
            current["form_factor"] = stripped.split("=", 1)[1].strip().strip('"')
    return tuple(sinks)


def output_is_headset(
    output_device: int | str | None, server: SoundServer | None, device_name: str = ""
) -> str | None:
    """Why the speaker voiced plays to is a headset (it cannot echo), or None.

    The speaker is the sink ``output_device`` names (part of its name or description), else
    the server's default sink; it is a headset when its form factor, active port, name or
    description says so (``HEADSET_WORDS``), or when PortAudio's name for the device does.

    Args:
        output_device: ``[audio] output_device``.
        server: What :func:`sound_server` found, or None.
        device_name: PortAudio's name of the output device, or "".
    """
    if _headset_word(device_name):
        return f"the speaker {device_name!r} is a headset"
    if server is None:
        return None
    wanted = output_device.casefold() if isinstance(output_device, str) else ""
    through_server = output_device is None or wanted in ("default", "pulse", "pipewire")
    for sink in server.sinks:
        named = bool(wanted) and (
            wanted in sink.name.casefold() or wanted in sink.description.casefold()
        )
        if named or (through_server and sink.name == server.default_sink):
            why = sink.headset()
            if why is not None:
                return f"the speaker {sink.description or sink.name!r} is a headset ({why})"
    return None


def input_is_echo_cancelled(input_device: int | str | None, server: SoundServer | None) -> bool:
    """Guess whether the configured microphone hears through echo cancellation.

    Args:
        input_device: ``[audio] input_device``.
        server: What :func:`sound_server` found, or None.
    """
    if isinstance(input_device, str) and "echo" in input_device.casefold():
        return True
    through_server = input_device is None or (
        isinstance(input_device, str) and input_device.casefold() in ("default", "pulse")
    )
    return bool(server and through_server and "echo" in server.default_source.casefold())
