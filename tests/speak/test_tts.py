"""Text to speech through pyttsx3 and espeak-ng, in the one synthesis thread."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import cast

import numpy as np
import pytest

from voiced.audio.playback import Clip
from voiced.errors import SpeechSynthesisError
from voiced.speak.tts import EspeakTTS, find_voice
from voiced.speak.worker import Engine, SynthWorker, shared_worker

FOX = "The quick brown fox jumps over the lazy dog, and then it runs far away."


def envelope(clip: Clip) -> np.ndarray:
    """RMS level per 10 ms."""
    x = clip.samples.astype(np.float64)
    frames = x.size // 220
    return np.sqrt((x[: frames * 220].reshape(frames, 220) ** 2).mean(axis=1))


def envelope_similarity(a: Clip, b: Clip) -> float:
    ea, eb = envelope(a), envelope(b)
    n = min(ea.size, eb.size)
    return float(np.corrcoef(ea[:n], eb[:n])[0, 1])


def rms(clip: Clip) -> float:
    return float(np.sqrt(np.mean(clip.samples.astype(np.float64) ** 2)))


async def test_renders_22050_hz_mono_speech_of_plausible_length() -> None:
    clip = await EspeakTTS(rate=175).render(FOX)
    assert clip.rate == 22050
    assert clip.samples.dtype == np.int16 and clip.samples.ndim == 1
    words = len(FOX.split())
    expected = words / 175 * 60  # seconds at 175 words per minute
    assert 0.6 * expected < clip.seconds < 1.6 * expected
    assert np.abs(clip.samples).max() > 8000  # real speech, not silence


async def test_leading_silence_is_trimmed_so_speech_starts_at_once() -> None:
    clip = await EspeakTTS().render("Hello.")
    first_sound = int(np.flatnonzero(np.abs(clip.samples.astype(np.int32)) > 64)[0])
    assert first_sound <= 0.003 * clip.rate


async def test_a_faster_rate_gives_shorter_speech() -> None:
    slow = await EspeakTTS(rate=120).render(FOX)
    fast = await EspeakTTS(rate=300).render(FOX)
    assert fast.seconds < 0.6 * slow.seconds


async def test_volume_scales_the_level() -> None:
    loud = await EspeakTTS(volume=1.0).render(FOX)
    quiet = await EspeakTTS(volume=0.3).render(FOX)
    assert 0.15 < rms(quiet) / rms(loud) < 0.5


async def test_another_voice_sounds_different_while_the_same_voice_sounds_alike() -> None:
    english = EspeakTTS(voice="gmw/en")
    first, again = await english.render(FOX), await english.render(FOX)
    american = await EspeakTTS(voice="English (America)").render(FOX)
    french = await EspeakTTS(voice="fr").render(FOX)
    assert envelope_similarity(first, again) > 0.95
    assert envelope_similarity(first, american) < 0.9
    assert envelope_similarity(first, french) < 0.9


async def test_speakers_with_different_settings_share_the_engine_without_mixing_them() -> None:
    # pyttsx3 hands settings to espeak-ng's own thread; a render must never start before
    # they apply (which once gave about one render in ten the previous speaker's rate).
    fast, slow = EspeakTTS(rate=300), EspeakTTS(rate=110, voice="fr")
    clips = await asyncio.gather(*(tts.render(FOX) for _ in range(20) for tts in (fast, slow)))
    fast_lengths = {round(clip.seconds, 1) for clip in clips[0::2]}
    slow_lengths = {round(clip.seconds, 1) for clip in clips[1::2]}
    assert len(fast_lengths) == 1 and len(slow_lengths) == 1
    assert min(slow_lengths) > 1.8 * max(fast_lengths)


async def test_every_render_runs_in_the_one_synthesis_thread() -> None:
    worker = shared_worker()
    jobs = [worker.submit(lambda _: threading.current_thread().name) for _ in range(3)]
    names = await asyncio.gather(*(asyncio.wrap_future(job) for job in jobs))
    assert set(names) == {"voiced-tts"}


def test_a_worker_started_by_a_real_time_thread_renders_at_normal_priority() -> None:
    """Under chrt, espeak-ng at real-time priority starved the sound server: underruns."""
    seen: dict[str, int] = {}

    def start_from_real_time() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))
        except PermissionError:
            return
        seen["starter"] = os.sched_getscheduler(0)
        worker = SynthWorker(lambda: cast(Engine, None))  # the policy is the thread's, not espeak's
        seen["worker"] = worker.submit(lambda _: os.sched_getscheduler(0)).result(10)

    starter = threading.Thread(target=start_from_real_time)
    starter.start()
    starter.join()
    if not seen:
        pytest.skip("no permission to run a thread at real-time priority here")
    assert seen == {"starter": os.SCHED_RR, "worker": os.SCHED_OTHER}


async def test_rendering_never_blocks_the_event_loop() -> None:
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    tts = EspeakTTS()
    for _ in range(4):
        await tts.render(FOX * 3)
    done.set()
    await tick
    assert len(gaps) > 3
    assert max(gaps) < 0.25  # sanity bound on a busy machine; renders take tens of ms


async def test_the_driver_does_not_print_on_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    await EspeakTTS().render("Quiet please.")
    assert "Audio saved" not in capfd.readouterr().out


async def test_an_unknown_voice_is_a_clear_error() -> None:
    with pytest.raises(SpeechSynthesisError) as caught:
        await EspeakTTS(voice="no-such-voice").render("Hello.")
    assert "no-such-voice" in caught.value.message
    assert "voiced voices" in caught.value.hint
    with pytest.raises(SpeechSynthesisError):
        await EspeakTTS(voice="no-such-voice").warm_up()


def test_rate_and_volume_out_of_range_are_clear_errors() -> None:
    with pytest.raises(SpeechSynthesisError, match="rate 1000"):
        EspeakTTS(rate=1000)
    with pytest.raises(SpeechSynthesisError, match="volume 2"):
        EspeakTTS(volume=2.0)


def test_voices_lists_ids_names_and_languages() -> None:
    voices = EspeakTTS().voices()
    assert len(voices) > 20
    american = find_voice(voices, "gmw/en-us")
    assert american.name == "English (America)" and "en-us" in american.languages
    assert find_voice(voices, "english (america)") == american  # by name, any case
    assert find_voice(voices, "en-us") == american  # by language
