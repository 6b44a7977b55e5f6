"""The double-talk detector on the raw microphone: over voiced's echo at full level it dates
the user's onset where it is, not where AEC3 first lets it through, and in a reverberant room
it does not take the echo's tail for the user."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio.speech import speak
from tests.listen.harness import frames
from voiced.audio.echo import EchoCanceller
from voiced.audio.frames import SAMPLE_RATE, Int16Array
from voiced.config import ListenSettings
from voiced.listen import Segmenter
from voiced.listen import events as heard

REPLY = (
    "Here is a long answer, so that there is time to talk over it. It goes on for a while, "
    "sentence after sentence, about nothing much at all."
)
STOP = "Stop, that is enough, thank you very much."
WAIT = "Wait, tell me the weather instead."


class Played:
    def __init__(self, samples: Int16Array) -> None:
        self.samples = samples

    def read(self, at: int, count: int) -> Int16Array | None:
        if at >= self.samples.size:
            return None
        out: Int16Array = np.zeros(count, dtype=np.int16)
        n = max(0, min(count, self.samples.size - at))
        out[:n] = self.samples[at : at + n]
        return out


def over_the_reply(room: np.ndarray, gain: float, words: str, at_s: float) -> tuple[int, int, int]:
    """The user says ``words`` ``at_s`` into a reply echoed through ``room``; returns where
    their voice begins (its first sample over 300), where the segmenter found it in the
    cleaned signal, and where the detector dates it."""
    rng = np.random.default_rng(3)
    far = np.clip(np.rint(speak(REPLY) * 0.7 * 32767), -32768, 32767).astype(np.int16)
    mic = np.convolve(far.astype(np.float64), room)[: far.size] * gain
    mic += rng.normal(0, 30, far.size)
    user = speak(words, "en-gb") * 32767
    begins = round(at_s * SAMPLE_RATE)
    mic[begins : begins + user.size] += user[: far.size - begins]
    onset = begins + int(np.flatnonzero(np.abs(user) > 300)[0])
    canceller = EchoCanceller(Played(far))
    segmenter = Segmenter(ListenSettings())
    run = list(frames(np.clip(np.rint(mic), -32768, 32767).astype(np.int16)))
    found: list[tuple[int, int]] = []
    for i in range(0, len(run), 2):
        for frame in canceller.process(run[i : i + 2], run[i].start):
            for event in segmenter.feed(frame):
                if (
                    isinstance(event, heard.SpeechStarted)
                    and event.onset > onset - SAMPLE_RATE // 4
                ):
                    found.append((event.onset, canceller.near_end.onset(event.onset)))
    assert found, "the user's speech was not heard"
    return onset, *found[0]


def test_over_its_echo_at_full_level_the_users_onset_is_dated_from_the_raw_microphone() -> None:
    """The live loopback's case: the echo as loud as the user, 45 ms late. AEC3 hides the
    start of the user's words (the segmenter finds them 100 ms late); the raw microphone,
    against the far end, shows where they began."""
    room = np.concatenate((np.zeros(720), [1.0]))
    onset, seen, dated = over_the_reply(room, 1.0, STOP, 2.5)
    assert seen - onset > 0.06 * SAMPLE_RATE
    assert abs(dated - onset) <= 0.02 * SAMPLE_RATE


@pytest.mark.parametrize("words", [STOP, WAIT])
@pytest.mark.parametrize("at_s", [3.0, 3.7, 4.4])
def test_in_a_reverberant_room_the_echos_tail_never_dates_the_user_early(
    words: str, at_s: float
) -> None:
    """RT60 0.5 s, as much reverberation as direct sound: a dry model of the room takes the
    tail for someone else a third of the time; the detector uses the fastest decay that fits,
    so the user's onset is never moved before their first word."""
    rng = np.random.default_rng(3)
    tail = rng.normal(0, 1, 8000) * np.exp(-6.9 * np.arange(8000) / 8000)
    room = np.concatenate((np.zeros(1280), [1.0], tail * 0.06))
    onset, seen, dated = over_the_reply(room, 0.5, words, at_s)
    assert dated <= seen
    assert dated >= onset - 0.02 * SAMPLE_RATE
