"""The segmenter behind the real microphone path: paplay → PulseAudio vmic → PortAudio → capture.

Each recording is played into the private server's virtual microphone while
``MicrophoneCapture`` records ``default`` and the frames go straight into a segmenter, as in
the daemon. The utterances must match what the same segmenter finds in the file, shifted by the
capture lag measured by cross-correlation.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from tests.audio.pulse import PulseServer
from tests.audio.signals import best_alignment
from tests.audio.speech import RATE, Scene
from tests.listen.harness import ended, run
from tests.listen.scenes import non_speech_scenes, speech_scenes
from voiced.audio.capture import CaptureOptions, MicrophoneCapture
from voiced.audio.frames import FRAME_SAMPLES, Frame
from voiced.config import ListenSettings
from voiced.listen import Event, Segmenter, SpeechStarted

SETTINGS = ListenSettings(turn_model=False, confirm_end=False)
"""Fixed timing, ended on the level: the ends this test times are the fixed hangover's."""
HANGOVER = SETTINGS.hangover_ms * RATE // 1000
FRAME_SLACK = 3 * FRAME_SAMPLES // 2
"""Frames fall on a different grid live than offline: bounds may move by a frame and a half."""


async def hear(
    server: PulseServer, scene: Scene, directory: Path
) -> tuple[list[Frame], list[Event]]:
    """Play ``scene`` into the microphone; return the frames captured and the events they made."""
    wav = scene.wav(directory)
    segmenter = Segmenter(SETTINGS)
    mic = MicrophoneCapture(CaptureOptions())
    frames: list[Frame] = []
    events: list[Event] = []
    enough = asyncio.Event()

    async def listen() -> None:
        async for frame in mic.frames():
            frames.append(frame)
            events.extend(segmenter.feed(frame))
            if len(frames) >= 3:
                enough.set()

    task = asyncio.create_task(listen())
    try:
        async with asyncio.timeout(5):
            await enough.wait()
        player = server.play_to_mic(wav)
        async with asyncio.timeout(scene.audio.size / RATE + 10):
            assert await asyncio.to_thread(player.wait) == 0
        await asyncio.sleep(0.3)
    finally:
        await mic.aclose()
        async with asyncio.timeout(5):
            await task
    events.extend(segmenter.flush())
    return frames, events


def capture_lag(frames: list[Frame], scene: Scene) -> int:
    """Where the scene's first sample landed on the input clock."""
    assert frames[0].start == 0
    assert all(b.start - a.start == FRAME_SAMPLES for a, b in zip(frames, frames[1:], strict=False))
    recorded = np.concatenate([f.samples for f in frames])
    lag, correlation = best_alignment(recorded, scene.audio)
    assert correlation > 0.98, f"the capture does not hold the recording (r={correlation:.3f})"
    return lag


@pytest.mark.parametrize("name", ["us_160", "pause_us", "distant_fan"])
async def test_played_speech_gives_the_same_utterances_as_the_file(
    pulse: PulseServer,
    tmp_path: Path,
    name: str,
) -> None:
    scene = speech_scenes()[name]
    frames, events = await hear(pulse, scene, tmp_path)
    lag = capture_lag(frames, scene)
    live = ended(events)
    offline = ended(run(Segmenter(SETTINGS), scene.audio))

    assert len(live) == len(offline) == len(scene.utterances)
    for heard, known, (onset, offset) in zip(live, offline, scene.utterances, strict=True):
        assert abs(heard.onset - lag - known.onset) <= FRAME_SLACK
        assert abs(heard.offset - lag - known.offset) <= FRAME_SLACK
        assert heard.start - lag <= onset, "the audio must begin before the speech"
        assert offset <= heard.at - lag <= offset + HANGOVER + 100 * RATE // 1000
        held = scene.held(heard.start - lag, heard.end - lag, onset, offset)
        assert held >= 0.999 * scene.speech_energy(onset, offset), "speech was cut off"


async def test_played_keyboard_clicks_open_no_utterance(
    pulse: PulseServer,
    tmp_path: Path,
) -> None:
    scene = non_speech_scenes()["keyboard"]
    frames, events = await hear(pulse, scene, tmp_path)

    capture_lag(frames, scene)
    assert not [e for e in events if isinstance(e, SpeechStarted)]
