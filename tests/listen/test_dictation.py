"""``voiced listen``: espeak-ng recordings through segmenter, loopback Groq and the filter."""

from __future__ import annotations

import asyncio
import io
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import soundfile

from tests.audio.pulse import PulseServer
from tests.audio.speech import RATE, Scene, speak
from tests.conftest import TEST_KEY, make_client
from tests.groqsim import ErrorReply, GroqSim, Segment, Transcript
from tests.listen.scenes import LIGHTS, REMIND, lay_out
from tests.procs import run_voiced, spawn_voiced, user_env
from tests.schemas import validate_transcription_form
from voiced.audio.capture import CaptureOptions, MicrophoneCapture
from voiced.audio.filesource import FileSource
from voiced.config import ListenSettings, SttSettings
from voiced.listen import Segmenter, TranscriptFilter
from voiced.listen.dictation import Dictated, Dictation

LATE_ONSET = 0.2
"""The segmenter finds an onset at most 200 ms after the true one."""
SLACK = 0.1
"""Otherwise a reported start or end may sit this far (seconds) from the true speech bound:
a few frames, and JSON rounds to 10 ms."""

THANKS = Transcript(
    text="Thank you.", segments=[Segment(0.0, 0.8, " Thank you.", no_speech_prob=0.9)]
)


def said(text: str) -> Transcript:
    return Transcript(text=f" {text}", segments=[Segment(0.0, 2.0, f" {text}")])


@cache
def three_utterances() -> Scene:
    """A command, a short "Thank you." and another command, each in silence."""
    phrases = [speak(LIGHTS), speak("Thank you."), speak(REMIND)]
    return lay_out("dictation", [0.8, [phrases[0]], 1.2, [phrases[1]], 1.2, [phrases[2]], 1.0])


@cache
def two_utterances() -> Scene:
    """A command, then a short "Thank you."."""
    return lay_out("thanks", [0.5, [speak(LIGHTS)], 1.0, [speak("Thank you.")], 0.8])


@cache
def a_command_then_quiet() -> Scene:
    """A command, then 8 s of silence, so a Ctrl-C sent when its line comes (~2.8 s after
    the start) is seconds from the file's end: an exit 0 can then only mean the Ctrl-C was
    not acted on, not that it lost a race with the end of a short file."""
    return lay_out("then_quiet", [0.5, [speak(LIGHTS)], 8.0])


class Listen:
    """Runs ``voiced listen`` as a process with a private HOME, against the simulator."""

    def __init__(self, sim: GroqSim, home: Path) -> None:
        self.sim = sim
        self.home = home
        self.env = user_env(home, GROQ_API_KEY=TEST_KEY, GROQ_BASE_URL=sim.base_url)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_voiced("listen", *args, env=self.env, cwd=self.home, timeout=40, secret=TEST_KEY)


@pytest.fixture
def listen(groqsim: GroqSim, tmp_path: Path) -> Iterator[Listen]:
    groqsim.api_key = TEST_KEY
    yield Listen(groqsim, tmp_path)
    for recorded in groqsim.requests_for("transcriptions"):
        validate_transcription_form(recorded.form, recorded.files)


def records(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def assert_near_bounds(found: list[dict[str, object]], scene: Scene) -> None:
    assert len(found) == len(scene.utterances), found
    for record, (onset, offset) in zip(found, scene.utterances, strict=True):
        start, end = record["start"], record["end"]
        assert isinstance(start, float) and isinstance(end, float)
        assert onset / RATE - SLACK <= start <= onset / RATE + LATE_ONSET, (record, onset)
        assert abs(end - offset / RATE) <= SLACK, (record, offset / RATE)


@pytest.mark.subprocess
def test_json_gives_every_utterance_with_its_times_and_rejects_the_phantom(
    listen: Listen, tmp_path: Path
) -> None:
    scene = three_utterances()
    listen.sim.enqueue("transcriptions", said(LIGHTS), THANKS, said(REMIND))
    result = listen("--input", str(scene.wav(tmp_path)), "--fast", "--json")
    assert result.returncode == 0, result.stderr
    found = records(result.stdout)
    assert_near_bounds(found, scene)
    # Requests run concurrently, so which utterance got which scripted reply is up to the
    # network; every utterance is short, so the phantom is rejected wherever it landed.
    assert sorted(str(r["text"]) for r in found) == sorted([LIGHTS, "Thank you.", REMIND])
    for record in found:
        if record["text"] == "Thank you.":
            assert "phrase Whisper invents" in str(record["rejected"]), record
        else:
            assert record["rejected"] is None, record
    sent = listen.sim.requests_for("transcriptions")
    assert len(sent) == 3
    for request in sent:
        name, _, data = request.files["file"]
        assert name.startswith("utterance-") and name.endswith(".flac")
        info = soundfile.info(io.BytesIO(data))
        assert (info.format, info.samplerate, info.channels) == ("FLAC", 16000, 1)
        assert request.form["response_format"] == ["verbose_json"]


@pytest.mark.realtime
@pytest.mark.subprocess
def test_transcripts_are_printed_in_the_order_spoken_when_a_later_one_returns_first(
    listen: Listen, tmp_path: Path
) -> None:
    scene = two_utterances()
    # Paced in real time the requests arrive over a second apart, so each gets its reply in
    # turn; the first one's reply takes longer than the gap, so the second finishes first.
    slow = Transcript(text=f" {LIGHTS}", segments=[Segment(0, 2, f" {LIGHTS}")], delay=2.5)
    listen.sim.enqueue("transcriptions", slow, THANKS)
    result = listen("--input", str(scene.wav(tmp_path)), "--json")
    assert result.returncode == 0, result.stderr
    found = records(result.stdout)
    assert_near_bounds(found, scene)
    assert [(r["text"], r["rejected"] is None) for r in found] == [
        (LIGHTS, True),
        ("Thank you.", False),
    ]
    first, second = listen.sim.requests_for("transcriptions")
    assert second.received_at - first.received_at > 1.0


@pytest.mark.subprocess
def test_plain_mode_prints_only_accepted_text(listen: Listen, tmp_path: Path) -> None:
    scene = two_utterances()
    listen.sim.enqueue("transcriptions", said(LIGHTS), THANKS)
    result = listen("--input", str(scene.wav(tmp_path)), "--fast")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{LIGHTS}\n"
    notes = result.stderr.strip().splitlines()
    assert len(notes) == 1 and notes[0].startswith("[rejected: 'Thank you.' is a phrase")


@pytest.fixture
def ctrl_c_as_at_a_terminal() -> Iterator[None]:
    """Start voiced as a terminal does, with SIGINT at its default, even when the suite itself
    ignores it: bash ignores SIGINT in the commands it runs in the background (`&`) of a
    script, and a program started with SIGINT ignored keeps ignoring it (Python and voiced
    too, as `nohup` expects). exec resets a handler to the default, and an ignored one not."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.realtime
@pytest.mark.subprocess
@pytest.mark.usefixtures("ctrl_c_as_at_a_terminal")
def test_ctrl_c_stops_cleanly_with_status_130(listen: Listen, tmp_path: Path) -> None:
    listen.sim.enqueue("transcriptions", said(LIGHTS))
    wav = a_command_then_quiet().wav(tmp_path)
    with spawn_voiced(
        "listen",
        "--input",
        str(wav),
        env=listen.env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        try:
            assert process.stdout.readline() == f"{LIGHTS}\n"  # listening, mid-file
            sent = time.monotonic()
            process.send_signal(signal.SIGINT)
            status = process.wait(timeout=10)
            waited = time.monotonic() - sent
        finally:
            process.kill()
        errors = process.stderr.read()
    assert status == 130, f"exit {status} {waited:.2f} s after the Ctrl-C; stderr: {errors}"
    assert errors.strip() == "voiced: interrupted", errors


@pytest.mark.subprocess
def test_a_groq_error_is_one_line_without_a_traceback(listen: Listen, tmp_path: Path) -> None:
    listen.sim.enqueue("transcriptions", ErrorReply.unauthorized(), ErrorReply.unauthorized())
    result = listen("--input", str(two_utterances().wav(tmp_path)), "--fast")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("voiced: "), result.stderr
    assert "key" in lines[0].lower()


@pytest.mark.subprocess
def test_a_missing_input_file_is_a_clear_error(listen: Listen, tmp_path: Path) -> None:
    result = listen("--input", str(tmp_path / "nowhere.wav"), "--fast")
    assert result.returncode == 2
    assert "nowhere.wav" in result.stderr and "no such file" in result.stderr.lower()
    assert listen.sim.requests == []


@pytest.mark.subprocess
def test_a_corrupt_input_file_is_a_clear_error(listen: Listen, tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x10\x00\x00\x00WAVEthis is not audio at all" * 10)
    result = listen("--input", str(bad), "--fast")
    assert result.returncode == 2
    assert "bad.wav" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert listen.sim.requests == []


@pytest.mark.realtime
@pytest.mark.parametrize("in_flight", [1, 3])
async def test_transcriptions_run_concurrently_up_to_the_bound(
    groqsim: GroqSim, tmp_path: Path, in_flight: int
) -> None:
    scene = three_utterances()
    texts = [LIGHTS, "Lights off.", REMIND]
    delay = 0.6
    groqsim.enqueue(
        "transcriptions",
        *(Transcript(text=t, segments=[Segment(0, 2, t)], delay=delay) for t in texts),
    )
    settings = ListenSettings()
    segmenter = await asyncio.to_thread(Segmenter, settings)
    source = FileSource(scene.wav(tmp_path), fast=True)
    heard: list[Dictated] = []
    async with make_client(groqsim) as client, asyncio.timeout(20):
        judge = TranscriptFilter(settings)
        dictation = Dictation(source, segmenter, client, judge, SttSettings(), in_flight)
        await dictation.run(heard.append)
    assert [r.start for r in heard] == sorted(r.start for r in heard)
    arrived = [r.received_at for r in groqsim.requests_for("transcriptions")]
    if in_flight == 1:
        # Each request waits for the previous reply, so they arrive in order.
        assert [r.text for r in heard] == texts
        assert all(b - a >= delay for a, b in zip(arrived, arrived[1:], strict=False))
    else:
        assert sorted(r.text for r in heard) == sorted(texts)
        assert arrived[-1] - arrived[0] < delay, "all three were sent before any reply came"


async def test_live_microphone_dictation_emits_the_scripted_transcript(
    pulse: PulseServer, groqsim: GroqSim, tmp_path: Path
) -> None:
    scene = lay_out("live", [0.5, [speak(LIGHTS)], 1.0])
    groqsim.enqueue("transcriptions", said(LIGHTS))
    settings = ListenSettings()
    opened = asyncio.Event()
    mic = MicrophoneCapture(
        CaptureOptions(), lambda e: opened.set() if e.kind == "opened" else None
    )
    segmenter = await asyncio.to_thread(Segmenter, settings)
    heard: list[Dictated] = []
    got = asyncio.Event()

    def emit(record: Dictated) -> None:
        heard.append(record)
        got.set()

    async with make_client(groqsim) as client:
        dictation = Dictation(mic, segmenter, client, TranscriptFilter(settings), SttSettings())
        task = asyncio.create_task(dictation.run(emit))
        try:
            async with asyncio.timeout(5):
                await opened.wait()  # the scene opens with half a second of silence
            player = pulse.play_to_mic(scene.wav(tmp_path))
            async with asyncio.timeout(scene.audio.size / RATE + 10):
                assert await asyncio.to_thread(player.wait) == 0
                await got.wait()
        finally:
            await mic.aclose()
            async with asyncio.timeout(5):
                await task
    assert [(r.text, r.rejected) for r in heard] == [(LIGHTS, None)]
    onset, offset = scene.utterances[0]
    length = heard[0].end - heard[0].start
    assert heard[0].start > 0
    assert abs(length - (offset - onset) / RATE) <= LATE_ONSET + SLACK, "speech length"
