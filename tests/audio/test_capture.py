"""Microphone capture through sounddevice and PortAudio, against the private PulseAudio server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.audio.pulse import PulseServer
from tests.audio.signals import best_alignment, sweep, to_int16, write_wav
from voiced.audio.capture import CaptureEvent, CaptureOptions, MicrophoneCapture
from voiced.audio.devices import find_device, list_devices
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame
from voiced.audio.stream import FrameHandoff, LiveStream
from voiced.config import AudioSettings
from voiced.errors import AudioDeviceError

RATE = SAMPLE_RATE
LEAD, BURST, GAP = 0.5, 0.3, 1.0
"""The test WAV: LEAD s of silence, burst A, GAP s of silence, burst B, then silence."""


def two_bursts() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (whole WAV, burst A, burst B) as int16 at 16 kHz."""
    a = to_int16(sweep(BURST, RATE, seed=1))
    b = to_int16(sweep(BURST, RATE, seed=2)[::-1].copy())
    silence = np.zeros(int(GAP * RATE), dtype=np.int16)
    lead = np.zeros(int(LEAD * RATE), dtype=np.int16)
    return np.concatenate([lead, a, silence, b, lead]), a, b


class Listener:
    """Runs a capture, keeping its events and (unless ``consume`` is off) its frames."""

    def __init__(self, options: CaptureOptions, consume: bool = True) -> None:
        self.mic = MicrophoneCapture(options, on_event=self._note)
        self.frames: list[Frame] = []
        self.events: list[CaptureEvent] = []
        self._changed = asyncio.Event()
        self.task = asyncio.create_task(self._consume() if consume else self.mic.start())

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    def _note(self, event: CaptureEvent) -> None:
        self.events.append(event)
        self._changed.set()

    async def _consume(self) -> None:
        async for frame in self.mic.frames():
            self.frames.append(frame)
            self._changed.set()

    async def wait_for(self, condition: Callable[[], bool], limit: float = 5.0) -> None:
        """Wait until ``condition()`` holds, checking it after every frame and event."""
        async with asyncio.timeout(limit):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    async def close(self) -> np.ndarray:
        await self.mic.aclose()
        async with asyncio.timeout(5):
            await self.task
        return np.concatenate([f.samples for f in self.frames])


async def capture_while_playing(
    server: PulseServer, wav: Path, options: CaptureOptions
) -> tuple[Listener, int]:
    """Capture while ``wav`` plays into the mic; return the listener and the input-clock index
    reached when playback began."""
    listener = Listener(options)
    await listener.wait_for(lambda: len(listener.frames) >= 3)
    began = listener.frames[-1].end
    await play(server, wav)
    await listener.close()
    return listener, began


async def play(server: PulseServer, wav: Path) -> None:
    """Play ``wav`` into the mic, then let its end come through."""
    player = server.play_to_mic(wav)
    async with asyncio.timeout(15):
        assert await asyncio.to_thread(player.wait) == 0
    await asyncio.sleep(0.3)


def assert_contiguous(frames: list[Frame]) -> None:
    starts = [f.start for f in frames]
    assert starts[0] == 0
    assert all(
        later - earlier == FRAME_SAMPLES for earlier, later in zip(starts, starts[1:], strict=False)
    )
    assert all(f.samples.shape == (FRAME_SAMPLES,) and f.samples.dtype == np.int16 for f in frames)


@pytest.mark.parametrize("rate", [None, 48000, 44100], ids=["16k", "48k", "44.1k"])
async def test_captured_frames_match_the_played_wav_sample_accurately(
    pulse: PulseServer,
    tmp_path: Path,
    rate: int | None,
) -> None:
    whole, _, _ = two_bursts()
    wav = write_wav(tmp_path / "bursts.wav", whole, RATE)

    listener, began = await capture_while_playing(pulse, wav, CaptureOptions(rate=rate))

    assert_bursts_heard_in_time(listener, began)
    opened = [e for e in listener.events if e.kind == "opened"]
    assert len(opened) == 1
    assert ("resampled to 16 kHz" in opened[0].message) == (rate is not None)


async def test_a_device_that_refuses_16k_is_captured_at_its_default_rate_and_resampled(
    pulse: PulseServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Simulated: PortAudio's format check refuses 16 kHz for every device (as a USB microphone
    fixed at 48 kHz does). No device here really refuses it: the ALSA pulse plugin takes any
    rate, and the ALSA plugins that could pin a rate (rate, plug) convert instead of refusing,
    while the ones that refuse (hw, dsnoop) need sound hardware this machine lacks. Everything
    after the check is real: the stream opens at the device's default rate on the private
    server, and the frames are resampled to 16 kHz by the capture."""
    import sounddevice

    checked: list[float] = []
    real_check = sounddevice.check_input_settings

    def refuse_16k(**settings: object) -> None:
        checked.append(float(settings["samplerate"]))  # type: ignore[arg-type]
        if settings["samplerate"] == SAMPLE_RATE:
            raise sounddevice.PortAudioError("Invalid sample rate [PaErrorCode -9997]")
        real_check(**settings)

    monkeypatch.setattr(sounddevice, "check_input_settings", refuse_16k)
    default_rate = round(find_device(None, "input").default_rate)
    assert default_rate != SAMPLE_RATE
    whole, _, _ = two_bursts()
    wav = write_wav(tmp_path / "bursts.wav", whole, RATE)

    listener, began = await capture_while_playing(pulse, wav, CaptureOptions())

    assert checked[:2] == [SAMPLE_RATE, default_rate], "16 kHz first, then the default rate"
    (opened,) = [e for e in listener.events if e.kind == "opened"]
    assert f"at {default_rate} Hz" in opened.message
    assert opened.message.endswith("resampled to 16 kHz")
    assert_bursts_heard_in_time(listener, began)


def assert_bursts_heard_in_time(listener: Listener, began: int) -> None:
    """The frames carry two_bursts() at 16 kHz: whole, on a clock that does not drift, and
    heard soon after playback began at input-clock index ``began``."""
    whole, a, b = two_bursts()
    recorded = np.concatenate([f.samples for f in listener.frames])
    assert_contiguous(listener.frames)
    _, correlation = best_alignment(recorded, whole)
    assert correlation > 0.98, f"whole file: correlation {correlation:.4f}"
    at_a, corr_a = best_alignment(recorded, a)
    at_b, corr_b = best_alignment(recorded, b)
    assert min(corr_a, corr_b) > 0.98
    assert abs((at_b - at_a) - round((BURST + GAP) * RATE)) <= 2, "the input clock drifted"
    onset_delay = (at_a - began) / RATE - LEAD
    assert 0 <= onset_delay < 0.3, f"burst A heard {onset_delay * 1000:.0f} ms after it played"


async def test_a_device_is_chosen_by_any_case_part_of_its_name(
    pulse: PulseServer,
    tmp_path: Path,
) -> None:
    whole, _, _ = two_bursts()
    wav = write_wav(tmp_path / "bursts.wav", whole, RATE)

    listener, _ = await capture_while_playing(pulse, wav, CaptureOptions(device="VMI"))

    assert listener.mic.device_name == "vmic"
    assert listener.events[0].device == "vmic"
    recorded = np.concatenate([f.samples for f in listener.frames])
    assert best_alignment(recorded, whole)[1] > 0.98


async def test_a_device_is_chosen_by_the_index_given_as_in_the_config(
    pulse: PulseServer,
    tmp_path: Path,
) -> None:
    whole, _, _ = two_bursts()
    wav = write_wav(tmp_path / "bursts.wav", whole, RATE)
    vmic = find_device("vmic", "input")
    options = CaptureOptions.from_settings(AudioSettings(input_device="pulse"), str(vmic.index))

    listener, _ = await capture_while_playing(pulse, wav, options)

    assert options.device == vmic.index
    assert listener.mic.device_name == "vmic"
    recorded = np.concatenate([f.samples for f in listener.frames])
    assert best_alignment(recorded, whole)[1] > 0.98


async def test_an_unknown_device_name_is_a_clear_error_naming_the_choices(
    pulse: PulseServer,
) -> None:
    mic = MicrophoneCapture(CaptureOptions(device="no such microphone"))
    with pytest.raises(AudioDeviceError) as caught:
        await mic.start()
    assert "no input device matches 'no such microphone'" in caught.value.message
    assert "[audio] input_device" in caught.value.hint and "vmic" in caught.value.hint
    await mic.aclose()


async def test_a_name_matching_several_devices_asks_for_more_of_it(
    pulse: PulseServer,
) -> None:
    with pytest.raises(AudioDeviceError, match="matches several input devices") as caught:
        find_device("mic", "input", list_devices())
    assert "vmic" in caught.value.message and "micfeed" in caught.value.message


async def test_a_consumer_that_falls_behind_loses_the_oldest_frames_and_hears_why(
    pulse: PulseServer,
) -> None:
    listener = Listener(CaptureOptions(queue_frames=10), consume=False)
    mic = listener.mic
    await listener.wait_for(lambda: mic.stats.dropped >= 5 and "overflow" in listener.kinds(), 10)
    dropped = mic.stats.dropped
    frames = mic.frames()
    first = await anext(frames)
    await frames.aclose()
    await mic.aclose()
    assert first.start >= dropped * FRAME_SAMPLES, "the oldest frames were kept"
    overflow = next(e for e in listener.events if e.kind == "overflow")
    assert "frames dropped for a slow consumer" in overflow.message


async def test_the_handoff_delivers_frames_in_order_and_drops_those_sent_after_close() -> None:
    received: list[list[Frame]] = []
    all_in = asyncio.Event()

    def receive(frames: list[Frame]) -> None:
        received.append(frames)
        if len(received) == len(batches):
            all_in.set()

    handoff = FrameHandoff(receive)
    batches = [[Frame(np.full(FRAME_SAMPLES, i, np.int16), i * FRAME_SAMPLES)] for i in range(5)]

    def send_all() -> None:  # as PortAudio's thread does
        for batch in batches:
            handoff.send(batch)

    await asyncio.to_thread(send_all)
    async with asyncio.timeout(2):
        await all_in.wait()
    handoff.close()
    await asyncio.to_thread(handoff.send, batches[0])  # a late callback after close
    await asyncio.sleep(0.05)
    assert received == batches


def test_starting_without_any_input_device_is_a_clear_error(tmp_path: Path) -> None:
    script = (
        "import asyncio\n"
        "from voiced.audio.capture import MicrophoneCapture\n"
        "from voiced.errors import VoicedError\n"
        "try:\n"
        "    asyncio.run(MicrophoneCapture().start())\n"
        "except VoicedError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    dead = tmp_path / "no-server"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "XDG_RUNTIME_DIR": str(dead),
        "PULSE_SERVER": f"unix:{dead}/native",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout.startswith("AudioDeviceError no microphone found")
    assert "PulseAudio" in result.stdout and "voiced devices" in result.stdout


@pytest.fixture
def spare(
    pulse: PulseServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[PulseServer]:
    """A second server of the same layout, short-lived, that `default` now reaches."""
    server = PulseServer(tmp_path / "spare")
    server.start()
    for name, value in server.env.items():
        if name != "ALSA_CONFIG_PATH":
            monkeypatch.setenv(name, value)
    yield server
    server.stop()


QUICK_RECOVERY = CaptureOptions(stall_timeout=1.0, backoff_first=0.1, backoff_max=0.4)


async def test_a_lost_server_is_reported_and_capture_resumes_when_it_returns(
    spare: PulseServer, tmp_path: Path
) -> None:
    options = QUICK_RECOVERY
    listener = Listener(options)
    try:
        await listener.wait_for(lambda: len(listener.frames) >= 5)
        spare.stop()
        await listener.wait_for(lambda: "reopen_failed" in listener.kinds())
        lost_at = len(listener.frames)
        assert listener.kinds()[:2] == ["opened", "lost"]
        assert "reopening" in listener.events[1].message

        spare.start()
        await listener.wait_for(lambda: listener.kinds().count("opened") == 2, 15)
        whole, _, _ = two_bursts()
        await play(spare, write_wav(tmp_path / "bursts.wav", whole, RATE))
    finally:
        await listener.close()

    after = listener.frames[lost_at:]
    assert best_alignment(np.concatenate([f.samples for f in after]), whole)[1] > 0.98
    starts = [f.start for f in listener.frames]
    jumps = [
        later - earlier
        for earlier, later in zip(starts, starts[1:], strict=False)
        if later - earlier != 480
    ]
    assert len(jumps) == 1 and jumps[0] > SAMPLE_RATE // 2, "the outage should skip the clock"
    assert listener.mic.stats.reopens == 1


async def test_a_device_that_goes_silent_is_reopened_even_if_closing_it_hangs(
    spare: PulseServer, tmp_path: Path
) -> None:
    listener = Listener(QUICK_RECOVERY)
    try:
        await listener.wait_for(lambda: len(listener.frames) >= 5)
        spare.pause()
        await listener.wait_for(lambda: "lost" in listener.kinds())
        assert "no audio for" in listener.events[-1].message
        spare.resume()
        await listener.wait_for(lambda: listener.kinds().count("opened") == 2, 20)
        resumed_at = len(listener.frames)
        whole, _, _ = two_bursts()
        await play(spare, write_wav(tmp_path / "bursts.wav", whole, RATE))
    finally:
        await listener.close()

    after = listener.frames[resumed_at:]
    assert best_alignment(np.concatenate([f.samples for f in after]), whole)[1] > 0.98
    assert listener.mic.stats.reopens == 1


@pytest.mark.parametrize("rate", [None, 48000], ids=["16k", "48k"])
async def test_switching_block_size_mid_sound_loses_and_repeats_no_sample(
    pulse: PulseServer, tmp_path: Path, rate: int | None
) -> None:
    """listen_closely hands the device to a stream in 30 ms blocks and back while a sweep
    plays: each 100 ms of the sweep is where the whole sweep is, to 2 samples."""
    signal = to_int16(sweep(3.0, RATE, seed=3))
    quiet = np.zeros(RATE * 3 // 10, dtype=np.int16)
    wav = write_wav(tmp_path / "sweep.wav", np.concatenate([quiet, signal, quiet]), RATE)
    listener = Listener(CaptureOptions(rate=rate))
    mic = listener.mic
    await listener.wait_for(lambda: len(listener.frames) >= 3)
    assert mic.block_ms == 60
    player = pulse.play_to_mic(wav)
    await asyncio.sleep(1.0)
    mic.listen_closely(True)
    await listener.wait_for(lambda: mic.stats.handovers == 1, limit=3)
    assert mic.block_ms == 30
    await asyncio.sleep(0.8)
    mic.listen_closely(False)
    await listener.wait_for(lambda: mic.stats.handovers == 2, limit=3)
    assert mic.block_ms == 60
    async with asyncio.timeout(15):
        assert await asyncio.to_thread(player.wait) == 0
    await asyncio.sleep(0.3)
    recorded = await listener.close()

    assert listener.kinds() == ["opened"]
    assert_contiguous(listener.frames)
    at, correlation = best_alignment(recorded, signal)
    assert correlation > 0.98
    piece = RATE // 10
    lags = [
        best_alignment(recorded, signal[i : i + piece])[0] - i
        for i in range(0, signal.size - piece + 1, piece)
    ]
    assert [lag - at for lag in lags] == pytest.approx([0] * len(lags), abs=2)


async def test_a_device_that_cannot_open_twice_keeps_its_block_size(
    pulse: PulseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated: a raw ALSA device (hw:) is busy while open; the second open fails. Capture
    goes on in its usual blocks and says why."""
    real_open = LiveStream.open

    def busy(*args: object, **kwargs: object) -> LiveStream:
        if kwargs.get("waiting"):
            raise AudioDeviceError("cannot open microphone: Device unavailable [PaErrorCode -9985]")
        return real_open(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(LiveStream, "open", busy)
    whole, _, _ = two_bursts()
    wav = write_wav(tmp_path / "bursts.wav", whole, RATE)
    listener = Listener(CaptureOptions())
    await listener.wait_for(lambda: len(listener.frames) >= 3)
    listener.mic.listen_closely(True)
    began = listener.frames[-1].end
    await play(pulse, wav)
    listener.mic.listen_closely(False)
    listener.mic.listen_closely(True)
    await listener.close()

    assert listener.mic.stats.handovers == 0
    assert_bursts_heard_in_time(listener, began)
