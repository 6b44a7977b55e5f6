"""``[audio] echo_cancel``: when voiced runs its own echo canceller, and how it falls back to the
hold path (saying so in the log) when the canceller does not keep the echo out."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from voiced.audio.echo import WARM_UP_S, EchoMeter
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE
from voiced.audio.soundserver import SoundServer, parse_sinks
from voiced.config import Settings, load_settings
from voiced.pipeline.aec import JUDGED_FRAMES, EchoState
from voiced.pipeline.ends import EchoChoice, choose_echo
from voiced.protocol.events import Event
from voiced.protocol.reports import LogRecord

SINKS = """\
Sink #0
\tState: RUNNING
\tName: alsa_output.pci-0000_00_1f.3.analog-stereo
\tDescription: Built-in Audio Analog Stereo
\tActive Port: analog-output-speaker
\tProperties:
\t\tdevice.form_factor = "internal"
Sink #1
\tName: bluez_output.AA_BB_CC.1
\tDescription: WH-1000XM4
\tActive Port: headset-output
\tProperties:
\t\tdevice.form_factor = "headset"
"""


def settings(home: Path, mode: str = "auto", **daemon: object) -> Settings:
    loaded = load_settings({"HOME": str(home)})
    return replace(
        loaded,
        audio=replace(loaded.audio, echo_cancel=mode),
        daemon=replace(loaded.daemon, **daemon),
    )


def server(default_sink: str, default_source: str = "alsa_input.analog-stereo") -> SoundServer:
    return SoundServer(
        name="PulseAudio",
        default_source=default_source,
        sources=(default_source,),
        echo_modules=0,
        default_sink=default_sink,
        sinks=parse_sinks(SINKS),
    )


def test_auto_cancels_the_echo_of_a_laptop_speaker(tmp_path: Path) -> None:
    choice = choose_echo(settings(tmp_path), server("alsa_output.pci-0000_00_1f.3.analog-stereo"))
    assert choice == EchoChoice(True, False, "the speaker can reach the microphone")


def test_auto_is_off_for_a_headset_and_says_why(tmp_path: Path) -> None:
    choice = choose_echo(settings(tmp_path), server("bluez_output.AA_BB_CC.1"))
    assert not choice.aec and not choice.external
    assert "WH-1000XM4" in choice.why and "form factor 'headset'" in choice.why


def test_auto_is_off_when_the_microphone_is_already_echo_cancelled(tmp_path: Path) -> None:
    found = server("alsa_output.pci-0000_00_1f.3.analog-stereo", default_source="echocancel")
    choice = choose_echo(settings(tmp_path), found)
    assert not choice.aec and choice.external and "echocancel is echo-cancelled" in choice.why
    told = choose_echo(settings(tmp_path, echo_cancelled=True), None)
    assert not told.aec and told.external


def test_on_and_off_are_obeyed_and_a_replay_without_a_room_needs_none(tmp_path: Path) -> None:
    headset = server("bluez_output.AA_BB_CC.1")
    assert choose_echo(settings(tmp_path, "on"), headset).aec
    assert not choose_echo(settings(tmp_path, "off"), None).aec
    assert not choose_echo(settings(tmp_path), None, replay=True).aec
    assert choose_echo(settings(tmp_path), None, replay=True, room=True).aec


def poor_meter(erle_db: float) -> EchoMeter:
    """A meter that heard a reply's echo for 2 s, cleaned by ``erle_db``."""
    meter = EchoMeter()
    meter.begin_reply()
    frames = round(2 * WARM_UP_S * SAMPLE_RATE / FRAME_SAMPLES)
    for i in range(frames):
        meter.add(i * FRAME_SAMPLES, erle_db)
    return meter


@pytest.mark.parametrize(("erle", "trusted"), [(35.0, True), (6.0, False)])
def test_speech_over_a_reply_stops_it_only_while_the_echo_is_kept_out(
    tmp_path: Path, erle: float, trusted: bool
) -> None:
    choice = choose_echo(settings(tmp_path), None)
    state = EchoState(choice, poor_meter(erle), 20.0, lambda event: None)
    assert state.cancelled() is trusted


def test_a_reply_whose_echo_stayed_loud_falls_back_to_the_hold_path_and_says_so(
    tmp_path: Path,
) -> None:
    published: list[Event] = []
    choice = choose_echo(settings(tmp_path), None)
    state = EchoState(choice, poor_meter(6.0), 20.0, published.append)
    assert state.reply_ended() == 6.0
    assert poor_meter(6.0).reply_frames() >= JUDGED_FRAMES
    (warning,) = published
    assert isinstance(warning, LogRecord) and warning.level == "warning"
    assert "ERLE 6.0 dB" in warning.message and "held until its transcript" in warning.message
    assert not state.cancelled() and "poor" in state.describe()
    state.meter = poor_meter(35.0)  # the sound comes back through the speaker it is fed from
    assert state.reply_ended() == 35.0 and state.cancelled()
    assert isinstance(published[-1], LogRecord) and "works again" in published[-1].message
