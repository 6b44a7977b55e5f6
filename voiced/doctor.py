"""``voiced doctor``'s checks: key, server, models, audio, echo, voice, MCP servers, daemon,
data files."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Literal

from voiced.audio import soundserver as echo
from voiced.commands import serviceunit as service
from voiced.config import Settings, mask_url
from voiced.errors import AuthenticationError, VoicedError
from voiced.groq.client import GroqClient, options_from_settings
from voiced.groq.models import ModelInfo
from voiced.protocol.client import ControlClient
from voiced.protocol.paths import socket_path

Outcome = Literal["ok", "warn", "fail"]
KEY_FIX = (
    "run `voiced` and paste the key, or put GROQ_API_KEY=gsk_… in ~/.config/voiced/credentials "
    "(chmod 600); keys are made at https://console.groq.com/keys"
)


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, how it went, and the fix when it did not."""

    name: str
    outcome: Outcome
    detail: str
    fix: str = ""


def check_key(settings: Settings) -> Check:
    """Is there an API key, and where from (shown masked)?"""
    if settings.api_key is None:
        return Check("API key", "fail", "no Groq API key is set", KEY_FIX)
    return Check("API key", "ok", f"{settings.api_key.masked()} from {settings.api_key_source}")


async def check_api(settings: Settings) -> tuple[Check, list[ModelInfo] | None]:
    """Can the API be reached with this key (GET models)?"""
    if settings.api_key is None and "groq.com" in settings.chat.base_url:
        return Check("API", "warn", "not checked: no API key"), None
    began = time.perf_counter()
    try:
        async with GroqClient(options_from_settings(settings)) as client:
            models = await client.list_models()
    except AuthenticationError as exc:
        return Check("API", "fail", f"the key was refused: {exc.message}", KEY_FIX), None
    except VoicedError as exc:
        fix = exc.hint or "check the network, and [chat] base_url in the config file"
        return Check("API", "fail", f"{mask_url(settings.chat.base_url)}: {exc.message}", fix), None
    took = (time.perf_counter() - began) * 1000
    detail = f"{mask_url(settings.chat.base_url)} answered in {took:.0f} ms ({len(models)} models)"
    return Check("API", "ok", detail), models


def check_models(settings: Settings, models: list[ModelInfo] | None) -> list[Check]:
    """Do the configured models exist and are they active?"""
    if models is None:
        return [Check("models", "warn", "not checked: the API could not be reached")]
    active = {m.id for m in models if m.active}
    wanted = {
        "[chat] model": settings.chat.model,
        "[stt] model": settings.stt.model,
        "[stt] translation_model": settings.stt.translation_model,
    }
    if settings.conversation.summary_model:
        wanted["[conversation] summary_model"] = settings.conversation.summary_model
    if settings.speech.engine == "groq":
        wanted["[speech] groq_model"] = settings.speech.groq_model
    checks = []
    for key, model in wanted.items():
        if model in active:
            checks.append(Check(key, "ok", model))
        else:
            near = ", ".join(sorted(m for m in active if model.split("/")[-1][:4] in m)[:5])
            fix = f"set {key} to one of `voiced models`" + (f" (e.g. {near})" if near else "")
            checks.append(Check(key, "fail", f"{model} is not offered to this key", fix))
    return checks


def check_devices(settings: Settings) -> list[Check]:
    """Is there a microphone and a speaker, the configured ones if named? (blocking)"""
    from voiced.audio import devices

    checks = []
    for kind, spec in (
        ("input", settings.audio.input_device),
        ("output", settings.audio.output_device),
    ):
        name = "microphone" if kind == "input" else "speaker"
        try:
            device = devices.find_device(spec, kind)  # type: ignore[arg-type]
        except VoicedError as exc:
            checks.append(Check(name, "fail", exc.message, exc.hint))
        else:
            checks.append(Check(name, "ok", f"{device.index}: {device.name} ({device.hostapi})"))
    return checks


def check_echo(settings: Settings) -> Check:
    """How will voiced keep from hearing itself: its own echo canceller (``[audio]
    echo_cancel``), an echo-cancelled source, or a headset? (blocking)"""
    from voiced.audio import devices
    from voiced.pipeline.ends import choose_echo

    server = echo.sound_server()
    speaker = ""
    with contextlib.suppress(VoicedError):  # the speaker's own check says why it is missing
        speaker = devices.find_device(settings.audio.output_device, "output").name
    choice = choose_echo(settings, server, speaker)
    if choice.aec or settings.audio.echo_cancel == "auto":
        return Check("echo cancellation", "ok", choice.describe())
    if server is not None and echo.input_is_echo_cancelled(settings.audio.input_device, server):
        return Check("echo cancellation", "ok", f"listening through {server.default_source}")
    on = 'set [audio] echo_cancel = "auto" (voiced cancels its own echo)'
    if server is None:
        return Check(
            "echo cancellation",
            "warn",
            f"{choice.describe()}; cannot ask the sound server (pactl missing or no "
            "PulseAudio/PipeWire)",
            f"{on}; without echo cancellation voiced needs louder speech to interrupt itself "
            "([daemon] barge_in_echo_min_ms)",
        )
    load = f"{on}, or load the sound server's: {echo.LOAD_COMMAND}\n  keep it loaded: "
    load += server.persist_hint()
    if server.echo_sources:
        source = server.echo_sources[0]
        return Check(
            "echo cancellation",
            "warn",
            f"{source} exists but voiced listens to {server.default_source or 'another source'}",
            f"pactl set-default-source {source}  (or set [audio] input_device)\n  {load}",
        )
    return Check(
        "echo cancellation",
        "warn",
        f"{choice.describe()}, and no echo-cancelled source on "
        f"{server.name or 'the sound server'}: barge-in needs louder speech and voiced may "
        "hear itself",
        load,
    )


def check_listening(settings: Settings) -> Check:
    """The mode the daemon starts in, and whether the wake word's model loads."""
    from voiced.wake.detector import WakeDetector

    try:
        detector = WakeDetector.from_settings(settings.wake)
    except VoicedError as exc:
        return Check("listening", "fail", exc.message, exc.hint or "fix [wake] word")
    model = detector.model
    word = f"wake word {model.phrase!r} ({model.name}, cut-off {detector.cutoff:g})"
    mode = settings.daemon.mode
    if mode == "wake":
        return Check("listening", "ok", f"wake mode, {word}: nothing is sent until it is heard")
    if mode == "always":
        detail = "always mode: every utterance the microphone hears is uploaded"
        fix = 'set [daemon] mode = "wake" to send nothing until the wake word is heard'
        return Check("listening", "warn", detail, fix)
    return Check("listening", "ok", f"{mode.replace('_', '-')} mode; {word} in wake mode")


async def check_voice(settings: Settings) -> Check:
    """Does espeak-ng start, and does the configured voice exist?"""
    from voiced.speak.tts import EspeakTTS

    speech = settings.speech
    try:
        tts = EspeakTTS(speech.voice, speech.rate, speech.volume)
        await asyncio.wait_for(tts.warm_up(), 30)
    except TimeoutError:
        return Check("voice", "fail", "espeak-ng did not start within 30 s", "reinstall espeak-ng")
    except VoicedError as exc:
        return Check("voice", "fail", exc.message, exc.hint)
    voice = settings.speech.voice or "espeak-ng's default voice"
    if settings.speech.engine == "groq":
        voice += " (when the Groq voice fails)"
    return Check("voice", "ok", voice)


PROBE_TEXT = "OK."
"""What the Groq voice check has said: the shortest request that proves the voice works."""
PROBE_WAIT_S = 10.0
"""Seconds the check waits for the first audio; a rate limit that asks for a longer wait is
reported at once instead of waited out."""


async def check_groq_voice(settings: Settings) -> Check:
    """Does the Groq voice speak with this key (engine = "groq")?

    The models list cannot tell: a model whose terms were never accepted is listed like any
    other, and only a speech request answers 400 model_terms_required. So this sends one
    three-character request, which counts against the model's daily request limit.
    """
    from voiced.errors import RateLimitError, TermsRequiredError
    from voiced.groq.speech import SpeechRequest
    from voiced.speak.fallback import notice_for
    from voiced.speak.groqtts import decode_speech

    speech = settings.speech
    name = "Groq voice"
    if settings.api_key is None and "groq.com" in speech.base_url:
        return Check(name, "warn", "not checked: no API key")
    request = SpeechRequest(model=speech.groq_model, input=PROBE_TEXT, voice=speech.groq_voice)
    try:
        async with GroqClient(options_from_settings(settings)) as client:
            audio = await client.speech(request, max(PROBE_WAIT_S, speech.groq_first_byte_s))
        clip = await asyncio.to_thread(decode_speech, [audio.data], 22050)
    except AuthenticationError as exc:
        return Check(name, "fail", f"the key was refused: {exc.message}", KEY_FIX)
    except (TermsRequiredError, RateLimitError) as exc:
        notice = notice_for(exc, speech.groq_model, speech.groq_first_byte_s)
        outcome: Outcome = "warn" if isinstance(exc, RateLimitError) else "fail"
        return Check(name, outcome, notice.message, notice.hint)
    except VoicedError as exc:
        fix = exc.hint or 'check [speech] groq_model and groq_voice, or set engine = "espeak"'
        return Check(name, "fail", f"{speech.groq_model}: {exc.message}", fix)
    detail = (
        f"{speech.groq_model}, voice {speech.groq_voice}: first audio after "
        f"{audio.first_byte_s * 1000:.0f} ms ({clip.seconds:.1f} s of speech for {PROBE_TEXT!r})"
    )
    if audio.first_byte_s > speech.groq_first_byte_s:
        fix = "replies will fall back to espeak-ng; raise [speech] groq_first_byte_s"
        return Check(name, "warn", detail + f", over {speech.groq_first_byte_s:g} s", fix)
    return Check(name, "ok", detail)


async def check_mcp(settings: Settings) -> list[Check]:
    """Does each enabled MCP server start and list its tools? (started here, then stopped)"""
    from voiced.mcp.manager import running_servers

    checks = []
    async with running_servers(settings.mcp.servers) as mcp:
        await mcp.settled()
        for server in mcp.states():
            name = f"MCP server {server.name}"
            if server.phase == "disabled":
                checks.append(Check(name, "ok", "disabled (enabled = false)"))
            elif server.phase != "ready":
                fix = (
                    "check its [[mcp.servers]] table (command and args, or url and headers); "
                    "run the command by hand to see its own error"
                )
                checks.append(Check(name, "fail", server.reason, fix))
            elif server.skipped:
                skipped = "; ".join(f"{s.tool}: {s.reason}" for s in server.skipped)
                fix = "those tools are not offered; the server's author can fix their schemas"
                detail = f"{len(server.tools)} tools; {len(server.skipped)} skipped ({skipped})"
                checks.append(Check(name, "warn", detail, fix))
            else:
                checks.append(Check(name, "ok", f"{server.transport}, {len(server.tools)} tools"))
    return checks


async def check_daemon(settings: Settings) -> Check:
    """Does a daemon answer on the control socket?"""
    path = socket_path(settings.daemon.socket)
    try:
        async with await ControlClient.connect(path, wait_s=3) as client:
            status = await client.status()
    except VoicedError as exc:
        return Check("daemon", "warn", exc.message, exc.hint)
    down = [f"{s.name}: {s.reason}" for s in status.mcp if s.state == "failed"]
    if down:
        fix = "the daemon retries them with a backoff; see the MCP server lines above"
        detail = f"pid {status.pid}: its MCP servers not available: {'; '.join(down)}"
        return Check("daemon", "warn", detail, fix)
    mode: str = status.mode
    if mode == "wake" and status.wake_word:
        mode = f"wake word {status.wake_word!r}"
    detail = f"pid {status.pid} on {path}, {status.state}, {mode}"
    if status.echo:
        detail += f"; {status.echo}"
    erle = status.echo_erle_db
    if erle is not None and erle < settings.audio.echo_min_erle_db:
        fix = (
            "voiced's echo canceller is fed what voiced plays: make sure the sound you hear "
            "comes out of the speaker voiced plays to ([audio] output_device), or use "
            "headphones; meanwhile speech over a reply is held until its transcript"
        )
        return Check("daemon", "warn", detail, fix)
    return Check("daemon", "ok", detail)


def check_database(kind: Literal["history", "timers"]) -> Check:
    """Is the history (or timers) database sound, and was a damaged one moved aside?"""
    from voiced.config import data_dir
    from voiced.converse.session import HISTORY_FILE, TIMERS_FILE
    from voiced.converse.sqlite import damage_of, damaged_copies

    path = data_dir() / (HISTORY_FILE if kind == "history" else TIMERS_FILE)
    damage = damage_of(path)
    if damage is not None:
        fix = "restart the daemon: it moves the file aside and starts a new one"
        return Check(kind, "fail", f"{path} is damaged: {damage}", fix)
    copies = damaged_copies(path)
    if copies:
        fix = (
            f"a daemon that found it keeps its {kind} in memory until restarted; what is left "
            f"of it: sqlite3 {copies[-1]} .recover; delete the file when you no longer need it"
        )
        return Check(kind, "warn", f"a damaged {kind} file was moved aside to {copies[-1]}", fix)
    return Check(kind, "ok", f"{path}" if path.exists() else f"{path} (none yet)")


def check_service() -> Check:
    """Is the user service installed, and does it run this installation?"""
    paths = service.unit_paths()
    if not paths.unit_file.exists():
        fix = "run `voiced service install` to start voiced at login"
        return Check("service", "warn", f"{paths.unit_file} is not installed", fix)
    if f"\nExecStart={paths.exec_start}\n" not in paths.unit_file.read_text(encoding="utf-8"):
        fix = "run `voiced service install` to point it at this installation"
        return Check("service", "warn", f"{paths.unit_file} runs another installation", fix)
    return Check("service", "ok", f"{paths.unit_file}")


async def run_checks(settings: Settings) -> list[Check]:
    """Run every check; none raises (each problem is a Check with its fix)."""
    checks = [check_key(settings)]
    api, models = await check_api(settings)
    checks += [api, *check_models(settings, models)]
    checks += await asyncio.to_thread(check_devices, settings)
    checks.append(await asyncio.to_thread(check_echo, settings))
    checks.append(check_listening(settings))
    checks.append(await check_voice(settings))
    checks += await check_mcp(settings)
    if settings.speech.engine == "groq":
        checks.append(await check_groq_voice(settings))
    checks.append(await check_daemon(settings))
    checks.append(await asyncio.to_thread(check_database, "history"))
    checks.append(await asyncio.to_thread(check_database, "timers"))
    checks.append(check_service())
    return checks
