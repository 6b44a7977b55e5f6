"""Speech through sounddevice and PortAudio to the virtual speaker, recorded at its monitor."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.audio.pulse import PulseServer
from tests.audio.signals import best_alignment
from tests.groqsim import ChatReply, ErrorReply, GroqSim, Speech
from tests.groqsim.process import SimProcess, sim_process
from tests.speak.helpers import KeepingTTS
from tests.speak.monitor import RATE, TimedRecording
from voiced.audio.playback import Clip
from voiced.audio.player import Player
from voiced.config import AudioSettings, Settings
from voiced.credentials import Secret
from voiced.errors import AudioDeviceError
from voiced.groq import ChatRequest, ClientOptions, GroqClient, Message
from voiced.speak.earcons import load
from voiced.speak.factory import open_speaker
from voiced.speak.fallback import FallbackTTS
from voiced.speak.groqtts import GroqTTS
from voiced.speak.speaker import Speaker, SpokenReply
from voiced.speak.tts import EspeakTTS, TextToSpeech

REPLY = (
    "Lima is the capital of Peru, on the Pacific coast. About ten million people live there. "
    "It was founded in 1535. The food is famous!"
)
LONG = (
    "This first sentence is long enough to be cut off while it plays and that is the point. "
    "This second sentence must never be heard. Nor may this third one."
)


@pytest.fixture
def player(pulse: PulseServer) -> Iterator[Player]:
    output = Player()
    output.open()
    yield output
    output.close()


def speech_client(sim: SimProcess) -> GroqClient:
    url = sim.api_url
    return GroqClient(ClientOptions(url, url, Secret(sim.api_key), speech_url=url))


@pytest.fixture
async def groq_client() -> AsyncIterator[GroqClient]:
    """A client of a loopback server in a child process (as Groq is in another machine)."""
    with sim_process() as sim:
        async with speech_client(sim) as client:
            yield client


@pytest.fixture(params=["espeak", "groq"])
def voice(request: pytest.FixtureRequest) -> Callable[[], TextToSpeech]:
    """Makes the engine a test speaks with: espeak-ng, or Groq's voice through the real client
    and the loopback server (its audio is espeak-ng too, in another voice, sent as a 48 kHz
    WAV after 150 ms, and resampled by voiced)."""
    if request.param == "espeak":
        return EspeakTTS
    client: GroqClient = request.getfixturevalue("groq_client")
    return lambda: GroqTTS(client, "canopylabs/orpheus-v1-english", "troy", first_byte_s=1.5)


@pytest.fixture
def monitor(pulse: PulseServer) -> Iterator[TimedRecording]:
    recording = TimedRecording(pulse.client_env())
    yield recording
    recording.stop()


async def trickle(text: str, size: int = 4) -> AsyncIterator[str]:
    for at in range(0, len(text), size):
        yield text[at : at + size]
        await asyncio.sleep(0.002)


async def sound_after(monitor: TimedRecording, index: int = 0, within: float = 5.0) -> int:
    found = await asyncio.to_thread(monitor.wait_for_sound, index, within)
    assert found is not None, "nothing reached the speaker"
    return found


async def long_reply_playing(
    player: Player, monitor: TimedRecording, voice: Callable[[], TextToSpeech]
) -> tuple[KeepingTTS, Speaker, SpokenReply, int]:
    """Start speaking ``LONG`` and let it play for 0.8 s; return the parts and where its
    sound began in the recording."""
    tts = KeepingTTS(voice())
    speaker = Speaker(tts, player)
    reply = speaker.reply()
    reply.feed(LONG)
    start = await sound_after(monitor)
    await asyncio.sleep(0.8)
    return tts, speaker, reply, start


async def test_played_audio_is_each_rendered_clip_back_to_back(
    player: Player, monitor: TimedRecording, voice: Callable[[], TextToSpeech]
) -> None:
    tts = KeepingTTS(voice())
    result = await asyncio.wait_for(Speaker(tts, player).speak_stream(trickle(REPLY)), 20)
    await asyncio.sleep(0.1)
    recorded = monitor.stop()

    assert [c.status for c in result.chunks] == ["played"] * len(tts.clips)
    assert len(tts.clips) == 5
    lags = []
    for clip in tts.clips:
        lag, correlation = best_alignment(recorded, clip.samples)
        assert correlation >= 0.95, f"{correlation:.3f} for {clip.seconds:.2f} s clip"
        lags.append(lag)
    for lag, following, clip in zip(lags, lags[1:], tts.clips, strict=False):
        assert abs(following - (lag + clip.samples.size)) <= 0.005 * RATE  # no gap, no overlap


async def test_stop_mid_reply_silences_within_50_ms_and_the_rest_never_plays(
    player: Player, monitor: TimedRecording, voice: Callable[[], TextToSpeech]
) -> None:
    tts, speaker, reply, start = await long_reply_playing(player, monitor, voice)
    stopped_at = time.monotonic()
    speaker.stop()
    result = await asyncio.wait_for(reply.finish(), 5)
    reply.feed("Text that arrives after the stop. More of it. ")
    await asyncio.sleep(0.6)
    fresh_from = monitor.index_at(time.monotonic())
    fresh = await asyncio.wait_for(speaker.say("A fresh reply."), 10)  # the stream still works
    await asyncio.sleep(0.1)
    recorded = monitor.stop()

    reply_sound = np.flatnonzero(recorded[:fresh_from])
    last = int(reply_sound[-1])
    assert (monitor.time_of(last) - stopped_at) * 1000 <= 50
    assert result.interrupted
    assert [c.status for c in result.chunks] == ["partial", "skipped"]
    assert result.spoken_text and LONG.startswith(result.spoken_text)
    heard = last + 1 - start
    assert abs(result.chunks[0].played - heard) <= 0.03 * RATE  # the report matches the audio
    assert fresh.chunks[0].status == "played"
    assert best_alignment(recorded[fresh_from:], tts.clips[-1].samples)[1] >= 0.95


async def test_hold_silences_at_once_and_release_plays_on_from_the_cut_word(
    player: Player, monitor: TimedRecording, voice: Callable[[], TextToSpeech]
) -> None:
    tts, speaker, reply, start = await long_reply_playing(player, monitor, voice)
    held_at = time.monotonic()
    speaker.hold()
    await asyncio.sleep(0.6)
    released_at = time.monotonic()
    speaker.release()
    result = await asyncio.wait_for(reply.finish(), 20)
    await asyncio.sleep(0.1)
    recorded = monitor.stop()

    # Nothing of the reply was lost: it was held, not stopped.
    assert not result.interrupted
    assert [c.status for c in result.chunks] == ["played"] * len(tts.clips)
    # Silent from 50 ms after the hold until the release ...
    held = recorded[monitor.index_at(held_at + 0.05) : monitor.index_at(released_at)]
    assert held.size > 0.4 * RATE and int(np.abs(held.astype(np.int32)).max()) == 0
    # ... then the first clip plays on from a pause 0.15-1.0 s before where it was cut.
    heard = int(np.flatnonzero(recorded[: monitor.index_at(held_at + 0.05)])[-1]) + 1 - start
    after = monitor.index_at(released_at)
    resumed = sound_after_in(recorded, after)
    lag, correlation = best_alignment(tts.clips[0].samples, recorded[resumed : resumed + RATE // 4])
    assert correlation >= 0.9
    assert heard - 1.0 * RATE - 0.02 * RATE <= lag <= heard - 0.15 * RATE + 0.02 * RATE


def sound_after_in(recorded: np.ndarray, index: int) -> int:
    """The first sound in a recording at or after ``index``."""
    loud = np.flatnonzero(recorded[index:])
    assert loud.size, "nothing played after the release"
    return index + int(loud[0])


async def test_a_chunk_rendered_after_the_stop_is_never_played(
    player: Player, monitor: TimedRecording, voice: Callable[[], TextToSpeech]
) -> None:
    tts = KeepingTTS(voice(), hold_after=1)  # the second render finishes only after the stop
    speaker = Speaker(tts, player)
    reply = speaker.reply()
    reply.feed(LONG)
    finishing = asyncio.create_task(reply.finish())
    await sound_after(monitor)
    await asyncio.wait_for(tts.holding.wait(), 5)
    await asyncio.sleep(0.3)
    stopped_at = time.monotonic()
    speaker.stop()
    tts.release.set()  # the late clip now reaches the player
    result = await asyncio.wait_for(finishing, 5)
    await asyncio.sleep(0.8)
    recorded = monitor.stop()

    assert len(tts.clips) >= 2
    assert [c.status for c in result.chunks] == ["partial", "skipped", "skipped"]
    late = np.flatnonzero(recorded[monitor.index_at(stopped_at + 0.05) :])
    assert late.size == 0, "sound after the stop"
    assert best_alignment(recorded, tts.clips[1].samples)[1] < 0.5


async def test_the_first_chunk_is_heard_before_the_reply_stream_ends(
    player: Player, monitor: TimedRecording, groqsim: GroqSim, client: GroqClient
) -> None:
    content = REPLY + " " + " ".join(["And it goes on and on."] * 6)
    groqsim.enqueue("chat", ChatReply(content=content, tokens_per_s=20))
    request = ChatRequest(model="openai/gpt-oss-20b", messages=(Message.user("Lima?"),))
    ended: list[tuple[float, int]] = []
    stream_done = asyncio.Event()

    async def deltas() -> AsyncIterator[str]:
        async with client.stream_chat(request) as stream:
            async for delta in stream:
                if delta.content:
                    yield delta.content
        ended.append((time.monotonic(), int(np.count_nonzero(monitor.samples()))))
        stream_done.set()

    speaking = asyncio.create_task(Speaker(KeepingTTS(), player).speak_stream(deltas()))
    first = await sound_after(monitor, within=10)
    await asyncio.wait_for(stream_done.wait(), 10)
    player.stop()
    await asyncio.wait_for(speaking, 5)

    stream_end, sound_at_end = ended[0]
    assert sound_at_end > 0, "no audio at the speaker when the stream ended"
    assert monitor.time_of(first) < stream_end - 1.0  # the stream lasts about 3 s


async def test_earcons_play_through_the_speaker_unless_switched_off(
    player: Player, monitor: TimedRecording
) -> None:
    Speaker(KeepingTTS(), player, earcons=False).earcon("error")
    await asyncio.sleep(0.4)
    assert np.count_nonzero(monitor.samples()) == 0
    Speaker(KeepingTTS(), player).earcon("listening")
    await sound_after(monitor)
    await asyncio.sleep(0.4)
    lag, correlation = best_alignment(monitor.stop(), load("listening").samples)
    assert correlation >= 0.95


async def test_a_speaker_that_dies_mid_reply_ends_the_reply_and_can_be_reopened(
    pulse: PulseServer,
    tmp_path: Path,
) -> None:
    doomed = PulseServer(tmp_path / "doomed")
    await asyncio.to_thread(doomed.start)
    session_env = {name: os.environ[name] for name in doomed.env}
    os.environ.update(doomed.env)  # the ALSA pulse plugin connects to it when the stream opens
    try:
        player = Player()
        await asyncio.to_thread(player.open)
    finally:
        os.environ.update(session_env)
    try:
        speaker = Speaker(KeepingTTS(), player)
        reply = speaker.reply()
        reply.feed(LONG)
        finishing = asyncio.create_task(reply.finish())
        await asyncio.sleep(0.6)
        await asyncio.to_thread(doomed.stop)
        result = await asyncio.wait_for(finishing, 5)  # does not wait for audio that cannot play
        assert result.interrupted and player.fault is not None
        assert [c.status for c in result.chunks] == ["partial", "skipped", "skipped"]
        refused = await asyncio.wait_for(speaker.say("Is anyone there?"), 5)
        assert [c.status for c in refused.chunks] == ["skipped"]

        await asyncio.to_thread(player.open)  # now on the session's server
        assert player.fault is None
        again = await asyncio.wait_for(speaker.say("Back again."), 10)
        assert [c.status for c in again.chunks] == ["played"]
    finally:
        await asyncio.to_thread(player.close)
        doomed.stop()


async def test_open_speaker_speaks_with_the_settings(monitor: TimedRecording) -> None:
    async with open_speaker(Settings()) as speaker:
        result = await asyncio.wait_for(speaker.say("Settings work."), 10)
    assert [c.status for c in result.chunks] == ["played"]
    assert np.count_nonzero(monitor.stop()) > 0.3 * RATE


async def test_output_latency_ms_is_how_far_ahead_the_speaker_is_fed(
    monitor: TimedRecording,
) -> None:
    """A clip handed over reaches the speaker after what PortAudio already buffered (silence):
    19 ms later with output_latency_ms = 20, 182 ms with 150 (measured here; the ALSA plugin
    adds about 30 ms to the larger buffer)."""
    tone = (8000 * np.sin(np.arange(int(0.1 * 22050)) * 0.2)).astype(np.int16)
    delays: dict[int, float] = {}
    found = 0
    for ms in (20, 150):
        settings = dataclasses.replace(Settings(), audio=AudioSettings(output_latency_ms=ms))
        async with open_speaker(settings) as speaker:
            await asyncio.sleep(0.3)  # the stream runs, its buffer full of silence
            handed = time.monotonic()
            speaker.output.play(Clip(tone, 22050))
            found = await sound_after(monitor, found)
            delays[ms] = monitor.time_of(found) - handed
            await asyncio.sleep(0.2)
        found = monitor.samples().size
    assert delays[20] < 0.05, delays
    assert 0.12 <= delays[150] - delays[20] <= 0.25, delays


async def test_a_missing_speaker_device_is_a_clear_error(pulse: PulseServer) -> None:
    settings = dataclasses.replace(Settings(), audio=AudioSettings(output_device="no such card"))
    with pytest.raises(AudioDeviceError, match="no such card"):
        async with open_speaker(settings):
            pass


class KeepingEspeak(EspeakTTS):
    """espeak-ng that keeps every clip it rendered."""

    def __init__(self) -> None:
        super().__init__()
        self.clips: list[Clip] = []

    async def render(self, text: str) -> Clip:
        clip = await super().render(text)
        self.clips.append(clip)
        return clip


def one_then_rate_limited(sim: GroqSim) -> None:
    sim.enqueue("speech", Speech(), ErrorReply.rate_limited(retry_after=30))


async def test_a_reply_whose_groq_voice_fails_is_finished_by_espeak_at_the_speaker(
    player: Player, monitor: TimedRecording
) -> None:
    espeak = KeepingEspeak()
    with sim_process(one_then_rate_limited) as sim:
        async with speech_client(sim) as client:
            groq = KeepingTTS(GroqTTS(client, "canopylabs/orpheus-v1-english", "troy"))
            speaker = Speaker(FallbackTTS(groq, espeak, first_byte_s=1.5), player)
            result = await asyncio.wait_for(speaker.speak_stream(trickle(REPLY)), 20)
    await asyncio.sleep(0.1)
    recorded = monitor.stop()

    assert [c.status for c in result.chunks] == ["played"] * 5
    assert len(groq.clips) == 1 and len(espeak.clips) == 4  # the failed chunk and the rest
    lags = []
    for clip in groq.clips + espeak.clips:
        lag, correlation = best_alignment(recorded, clip.samples)
        assert correlation >= 0.95, f"{correlation:.3f} for {clip.seconds:.2f} s clip"
        lags.append(lag)
    assert lags == sorted(lags)  # Groq's first, then espeak-ng's, in order
