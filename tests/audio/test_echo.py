"""The in-process echo canceller: it takes voiced's own voice out of the microphone, costs
nothing while nothing plays, leaves the user's speech where it was, and the far end and the
simulated room place what was played on the right samples."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.audio.speech import speak
from tests.listen.harness import ended, frames
from tests.listen.scenes import LIGHTS, REMIND, WEATHER, lay_out
from voiced.audio.echo import LAG, EchoCanceller, percentile
from voiced.audio.farend import FarEnd, Piece, PlayerTap, position, reference_of
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame, Int16Array
from voiced.audio.room import RoomOptions, SimulatedRoom
from voiced.config import ListenSettings
from voiced.errors import InputError
from voiced.listen import Segmenter

REPLY = (
    "Here is a long answer, so that there is time to talk over it. It goes on for a while, "
    "sentence after sentence, about nothing much at all."
)


def pcm(floats: np.ndarray, gain: float = 1.0) -> Int16Array:
    return np.clip(np.rint(floats * gain * 32767), -32768, 32767).astype(np.int16)


class Played:
    """A reference: ``samples`` played from position ``start``, nothing before or after."""

    def __init__(self, samples: Int16Array, start: int = 0) -> None:
        self.samples, self.start = samples, start

    def read(self, at: int, count: int) -> Int16Array | None:
        at -= self.start
        if at >= self.samples.size or at + count <= 0:
            return None
        out: Int16Array = np.zeros(count, dtype=np.int16)
        lo, hi = max(at, 0), min(at + count, self.samples.size)
        out[lo - at : hi - at] = self.samples[lo:hi]
        return out


def cancel(canceller: EchoCanceller, audio: Int16Array) -> list[Frame]:
    """Feed ``audio`` two frames at a time (a 60 ms capture block), as the capture does."""
    out: list[Frame] = []
    run = list(frames(audio))
    for i in range(0, len(run), 2):
        block = run[i : i + 2]
        out += canceller.process(block, block[0].start)
    return out


def level_db(samples: np.ndarray) -> float:
    x = samples.astype(np.float64)
    return 10 * np.log10(max(float(x @ x) / max(x.size, 1), 1e-3) / 32768**2)


def test_voiceds_echo_is_taken_out_of_the_microphone_by_at_least_25_db() -> None:
    far = pcm(speak(REPLY), 0.7)
    delay = round(0.06 * SAMPLE_RATE)
    echo = np.zeros(far.size, dtype=np.float64)
    echo[delay:] = far[:-delay] * 0.5
    noise = np.random.default_rng(1).normal(0, 20, far.size)
    mic = np.clip(np.rint(echo + noise), -32768, 32767).astype(np.int16)
    canceller = EchoCanceller(Played(far))
    cleaned = np.concatenate([f.samples for f in cancel(canceller, mic)])
    # After a second to converge, compare what was heard with what is left (cleaned[i] is
    # mic[i + 1 - LAG]'s time: the first frame of the stream is left out).
    heard, left = mic[SAMPLE_RATE:], cleaned[SAMPLE_RATE - (FRAME_SAMPLES - LAG) :]
    n = min(heard.size, left.size)
    assert level_db(heard[:n]) - level_db(left[:n]) >= 25.0
    assert canceller.cleaned > 0
    assert (canceller.meter.reply_db() or 0.0) >= 25.0


@pytest.mark.parametrize("room_db", [-96.0, -76.0])
def test_over_a_reply_in_a_quiet_room_the_canceller_adds_no_sound_of_its_own(
    room_db: float,
) -> None:
    """AEC3 hears the room from before voiced began to play, so through the reply it leaves
    no more than the room's own level; started cold it added comfort noise at about -60 dBFS
    all through the reply, which the segmenter took for a would-be utterance."""
    begins = SAMPLE_RATE  # a second of the room alone, then the reply
    far = pcm(speak(REPLY), 0.7)
    delay = round(0.06 * SAMPLE_RATE)
    rms = 32768 * 10 ** (room_db / 20)
    mic = np.random.default_rng(2).normal(0, rms, begins + far.size + delay)
    mic[begins + delay :] += far * 0.5
    canceller = EchoCanceller(Played(far, start=begins))
    cleaned = cancel(canceller, np.clip(np.rint(mic), -32768, 32767).astype(np.int16))
    assert canceller.cleaned > 0
    ends = begins + far.size  # (its last echo, 60 ms later, passes through: nothing plays)
    reply = np.concatenate([f.samples for f in cleaned if begins + SAMPLE_RATE <= f.start < ends])
    assert level_db(reply) <= max(room_db, -90.0) + 6.0


def test_while_nothing_plays_frames_pass_through_untouched_and_aec3_never_runs() -> None:
    audio = lay_out("pass", [0.3, [speak(LIGHTS)], 0.3]).audio
    canceller = EchoCanceller(Played(np.zeros(0, dtype=np.int16)))
    out = cancel(canceller, audio)
    assert canceller.cleaned == 0 and canceller._aec is None
    # The same audio, labelled with the time it was heard: 8 ms later than it went in.
    assert out[0].start == FRAME_SAMPLES - LAG
    joined = np.concatenate([f.samples for f in out])
    assert np.array_equal(joined, audio[out[0].start : out[0].start + joined.size])


@pytest.mark.parametrize(
    "playing",
    [pytest.param(False, id="voiced_silent"), pytest.param(True, id="voiced_speaking_40dB_down")],
)
def test_with_no_echo_to_speak_of_the_users_onsets_and_offsets_move_by_at_most_20_ms(
    playing: bool,
) -> None:
    """With the canceller on, the user's utterances segment as they do without it: while
    voiced is silent (frames pass through), and while it speaks with only the faint coupling
    of a real device (its echo 40 dB down: AEC3 runs on every frame, in double talk)."""
    parts = [0.6, [speak(LIGHTS)], 1.2, [speak(WEATHER)], 1.0, [speak(REMIND)], 1.0]
    scene = lay_out("no_echo", parts)
    audio = scene.audio
    far = np.tile(pcm(speak(REPLY), 0.7), 3)[: audio.size] if playing else audio[:0]
    delay = round(0.06 * SAMPLE_RATE)
    mic = audio.astype(np.float64)
    if playing:
        mic[delay:] += far[:-delay] * 0.01
    canceller = EchoCanceller(Played(far))
    cleaned = cancel(canceller, np.clip(np.rint(mic), -32768, 32767).astype(np.int16))
    if playing:
        assert canceller.cleaned >= len(cleaned) - 2  # AEC3 ran on (nearly) every frame
    else:
        assert canceller.cleaned == 0

    def segmented(run: list[Frame]) -> list[tuple[int, int]]:
        segmenter = Segmenter(ListenSettings())
        events = [e for f in run for e in segmenter.feed(f)] + segmenter.flush()
        return [(e.onset, e.offset) for e in ended(events)]

    raw = segmented(list(frames(audio)))
    after = segmented(cleaned)
    assert len(raw) == len(after) == 3
    tolerance = round(0.020 * SAMPLE_RATE)
    for (onset, offset), (onset2, offset2) in zip(raw, after, strict=True):
        assert abs(onset2 - onset) <= tolerance and abs(offset2 - offset) <= tolerance


JUDGE_ONCE = """
import sys
from voiced.audio.echo import EchoMeter
meter = EchoMeter()
meter.begin_reply()
for i in range(70):
    meter.add(i * 480, 30.0 + i % 7)
before = set(sys.modules)
assert meter.trusted(10.0) and meter.reply_db() is not None
print(sorted(set(sys.modules) - before))
"""


def test_judging_the_echo_over_a_reply_loads_no_module_on_the_loop() -> None:
    """Whether speech over a reply is the user's is first asked on the event loop just as it
    could stop the reply: it must not import anything then (numpy's percentile imported
    numpy.ma on its first call, 10-25 ms that delayed the daemon's first barge-in). A fresh
    interpreter, so that nothing earlier in the session imported it already."""
    run = subprocess.run(
        [sys.executable, "-c", JUDGE_ONCE], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_the_meters_percentile_is_numpys_to_the_bit() -> None:
    rng = np.random.default_rng(13)
    for size in (1, 2, 3, 10, 30, 31, 51):
        for q in (0, 25, 50, 90, 100):
            values = [float(v) for v in rng.normal(20.0, 15.0, size)]
            assert percentile(values, q) == float(np.percentile(values, q))


def test_the_far_end_reads_back_what_was_played_and_nothing_after_a_cut() -> None:
    far = FarEnd(seconds=2.0)
    block = np.arange(1, 801, dtype=np.int16)
    far.write(1000, block)
    assert far.read(0, 160) is None  # before anything was played: pass through
    got = far.read(1000, 800)
    assert got is not None and np.array_equal(got, block)
    far.cut(1400)
    got = far.read(1000, 800)
    assert got is not None and np.array_equal(got[:400], block[:400]) and not got[400:].any()
    tail = far.read(1400 + SAMPLE_RATE // 4, 160)  # the room's echo dies away: AEC3 runs on
    assert tail is not None and not tail.any()
    assert far.read(1400 + SAMPLE_RATE, 160) is None  # long after: pass through


def test_after_an_output_underrun_the_reference_moves_as_far_as_the_speaker_did() -> None:
    """The player's blocks go to the tap as PortAudio takes them. Over the first 200 the DAC
    time creeps 3 ms ahead of what the samples add up to (its clock against ours: the speaker
    did not move), then an underrun, after which it says the speaker plays 5 ms later: a click
    in the clip after it is in the reference 5 ms later than the running position, no more."""
    rate, size = 22050, 64
    clip = np.zeros(2 * rate, dtype=np.int16)
    clip[30000] = 30000
    reference = reference_of(clip, rate)
    far = FarEnd(seconds=4.0)
    tap = PlayerTap(far, rate)
    base = time.monotonic() + 0.05
    for i in range(clip.size // size):
        dac = base + i * size / rate + 0.003 * min(i, 200) / 200 + (0.005 if i >= 200 else 0.0)
        piece = Piece(0, reference, i * size, size)
        tap.played(clip[i * size : (i + 1) * size], [piece], dac, time.monotonic(), i == 200)
    start = position(base)
    played = far.read(start, 2 * 16000)
    assert played is not None
    click = int(np.argmax(np.abs(played.astype(np.int32))))
    assert abs(click - (int(np.argmax(np.abs(reference))) + 80)) <= 2  # 5 ms at 16 kHz


def test_the_simulated_room_echoes_the_output_at_its_gain_and_delay() -> None:
    played = np.zeros(SAMPLE_RATE, dtype=np.int16)
    played[1000:1100] = 10000

    def output(at: int, count: int) -> Int16Array:
        out: Int16Array = np.zeros(count, dtype=np.int16)
        lo, hi = max(at, 0), min(at + count, played.size)
        if lo < hi:
            out[lo - at : hi - at] = played[lo:hi]
        return out

    room = SimulatedRoom(RoomOptions(gain=0.5, delay_ms=80.0), output)
    mixed = np.concatenate(
        [
            room.mix(Frame(np.zeros(FRAME_SAMPLES, dtype=np.int16), s)).samples
            for s in range(0, 4800, 480)
        ]
    )
    loud = np.flatnonzero(mixed)
    assert loud[0] == 1000 + 1280 and loud[-1] == 1099 + 1280
    assert int(mixed[loud[0]]) == 5000


@pytest.mark.parametrize(
    ("gain", "delay", "words"),
    [(5.0, 80.0, "--echo-gain must be between"), (0.5, 10.0, "--echo-delay-ms must be between")],
)
def test_a_room_out_of_range_is_refused_with_the_option_named(
    gain: float, delay: float, words: str
) -> None:
    with pytest.raises(InputError, match=words):
        RoomOptions(gain, delay)


def test_an_impulse_response_that_is_not_audio_is_refused_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "room.wav"
    bad.write_bytes(b"not a wav at all")
    with pytest.raises(InputError, match="--echo-ir") as caught:
        SimulatedRoom(RoomOptions(0.5, 80.0, bad), lambda at, n: np.zeros(n, dtype=np.int16))
    assert "\n" not in caught.value.message
