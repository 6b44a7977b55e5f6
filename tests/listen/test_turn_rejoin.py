"""A thinking pause taken for the end: speech that goes on soon after rejoins the utterance."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.audio.recordings import sentences
from tests.audio.speech import RATE, Scene
from tests.listen.harness import answered, frames, run
from tests.listen.realscenes import (
    background,
    espeak_halves,
    prompt_scene,
    real_halves,
    with_pause,
)
from tests.listen.scenes import lay_out
from tests.listen.test_turn import Scripted
from voiced.config import ListenSettings
from voiced.listen import Dropped, Event, Segmenter, SpeechEnded, SpeechStarted

DEFAULTS = ListenSettings()
SURE = 0.95
"""A turn model sure every pause ends the turn: each thinking pause is taken for the end."""


def paused(pause_s: float, music_db: float | None = None) -> Scene:
    """ "I was wondering whether … you could turn on the kitchen lights." with a pause, in
    silence or over music on hold ``music_db`` below the speech."""
    first, rest = espeak_halves()[0]
    parts: list[object] = [0.8, [with_pause(first, rest, pause_s)], 2.5]
    if music_db is None:
        return lay_out("pause", parts)  # type: ignore[arg-type]
    seconds = 0.8 + (first.size + rest.size) / RATE + pause_s + 3.5
    bed = background("music", seconds, 1)
    return lay_out("pause", parts, bed, music_db)  # type: ignore[arg-type]


def events(scene: Scene, settings: ListenSettings = DEFAULTS) -> list[Event]:
    return run(Segmenter(settings, turn_model=Scripted(SURE)), scene.audio)


def test_speech_that_goes_on_within_turn_rejoin_ms_of_an_early_end_rejoins_it_whole() -> None:
    scene = paused(0.9)
    heard = events(scene)
    ends = [e for e in heard if isinstance(e, SpeechEnded)]
    starts = [e for e in heard if isinstance(e, SpeechStarted)]

    assert len(ends) == len(starts) == 2
    early, whole = ends
    assert early.reason == "silence" and early.turn is not None
    assert early.turn.verdict == "complete"  # ended on the model's word, in the pause
    (onset, offset) = scene.utterances[0]
    assert early.offset < offset - 0.9 * RATE
    assert starts[1].joined == early.start and starts[1].onset > early.end
    # One utterance again: from the first part's start, every sample up to its end.
    assert whole.start == early.start and whole.onset == early.onset
    assert whole.offset >= offset - 0.01 * RATE
    np.testing.assert_array_equal(whole.audio, scene.audio[whole.start : whole.end])
    assert answered(heard) == [whole]


def test_speech_after_a_longer_pause_than_turn_rejoin_ms_is_a_new_utterance() -> None:
    heard = events(paused(1.3))
    ends = [e for e in heard if isinstance(e, SpeechEnded)]

    assert len(ends) == 2
    assert all(e.joined is None for e in heard if isinstance(e, SpeechStarted))
    assert answered(heard) == ends


def change_to(lead_s: float) -> tuple[Scene, int]:
    """Her "Change to … which folder?" with a 0.9 s pause, ``lead_s`` into the scene, and
    where "which" begins."""
    _, first, rest = next(h for h in real_halves() if h[0].name == "vm-changeto")
    scene = lay_out("change_to", [lead_s, [with_pause(first, rest, 0.9)], 2.5])
    onset, _ = scene.utterances[0]
    return scene, onset + first.size // 160 * 160 + ms(900)


@pytest.mark.parametrize("lead_ms", range(800, 832, 2))
def test_speech_going_on_rejoins_wherever_silero_chunks_fall(lead_ms: int) -> None:
    """Silero judges 32 ms chunks; where they fall on "which" decides whether one of the three
    or four it has judged when the speech is confirmed reaches RESUME_P (0.95). At 3 of these
    16 places none did (best 0.945, 0.804, 0.939 at 822, 826, 828 ms) and the rejoin was
    refused, splitting the sentence in two (as in bench/turn_latency.py --pause 0.9). Speech
    resuming inside an utterance is given HOLD_MS (320 ms) for a strong chunk; speech that
    would rejoin one now waits as long for it ("folder" reaches 0.96)."""
    scene, _ = change_to(lead_ms / 1000)
    heard = events(scene)
    starts = [e for e in heard if isinstance(e, SpeechStarted)]

    assert len(starts) == 2 and starts[1].joined == starts[0].start, "it rejoined"
    ((onset, offset),) = scene.utterances
    (whole,) = answered(heard)
    assert whole.start <= onset and whole.offset >= offset - 0.01 * RATE
    # Held pending no longer than speech resuming inside an utterance may be.
    assert starts[1].at - starts[1].onset <= ms(320)


def test_speech_that_may_still_rejoin_is_started_then_ended_when_the_input_ends() -> None:
    """The input ends (the microphone closed, a replay's end) while it is not yet decided
    whether the speech just opened rejoins the early end (no strong chunk yet): it is
    announced as an utterance of its own, then ended, and nothing heard is dropped."""
    scene, which = change_to(0.826)  # "which" confirmed 150 ms in, its first strong chunk later
    short = replace(DEFAULTS, min_voiced_ms=100)  # what is heard of "which" is an utterance
    segmenter = Segmenter(short, turn_model=Scripted(SURE))
    heard: list[Event] = []
    for frame in frames(scene.audio[: which + ms(210)]):
        heard += segmenter.feed(frame)
    assert not any(isinstance(e, SpeechStarted) and e.at > which for e in heard), "undecided"
    heard += segmenter.flush()

    assert not [e for e in heard if isinstance(e, Dropped)], "nothing heard was dropped"
    said = [e for e in heard if isinstance(e, SpeechStarted | SpeechEnded)]
    assert [type(e) for e in said] == [SpeechStarted, SpeechEnded] * 2
    _, early, started, rest = said
    assert isinstance(started, SpeechStarted) and started.joined is None
    assert isinstance(rest, SpeechEnded) and rest.reason == "end_of_input"
    assert rest.start == started.start > early.end


def test_a_pause_filled_with_music_is_never_rejoined() -> None:
    # Music under the words that Silero is now and then sure of would otherwise rejoin an
    # utterance and hold it open into the next one (tests/listen/test_real_voices.py).
    heard = events(paused(0.9, music_db=15.0))

    assert all(e.joined is None for e in heard if isinstance(e, SpeechStarted))


def test_music_in_an_early_end_s_own_tail_keeps_the_next_prompt_apart() -> None:
    """Over music 10 dB below the speech, "conf-getconfno" is ended early, and the candidate
    the music opens right there is confirmed only as the next prompt begins, 2.4 s later,
    keeping its first-stage onset: no frame came between the early end and that onset. The
    music in the early end's own kept tail (-32 dB, the bar -40 dB) is the pause, so the
    next prompt stays apart however surely Silero hears it (0.991 within HOLD_MS; given that
    long, it rejoined when only frames after the end counted)."""
    chosen = sentences(60)
    k = next(j for j, p in enumerate(chosen) if p.name == "conf-getconfno")
    group = chosen[k // 5 * 5 :][:5]
    scene = prompt_scene("tail", group, "music 10 dB", seed=k // 5 * 5)
    heard = run(Segmenter(DEFAULTS), scene.audio)

    assert all(e.joined is None for e in heard if isinstance(e, SpeechStarted))
    assert len(answered(heard)) >= len(group)


def test_with_turn_rejoin_ms_0_an_early_end_stands() -> None:
    heard = events(paused(0.9), replace(DEFAULTS, turn_rejoin_ms=0))

    assert all(e.joined is None for e in heard if isinstance(e, SpeechStarted))
    assert len(answered(heard)) == 2


def test_without_the_turn_model_nothing_rejoins() -> None:
    fixed = replace(DEFAULTS, turn_model=False)
    heard = run(Segmenter(fixed), paused(0.9).audio)

    assert all(e.joined is None for e in heard if isinstance(e, SpeechStarted))
    assert len(answered(heard)) == 2


def test_a_rejoin_detached_is_a_new_utterance_from_its_own_start() -> None:
    scene = paused(0.9)
    segmenter = Segmenter(DEFAULTS, turn_model=Scripted(SURE))
    heard: list[Event] = []
    for frame in frames(scene.audio):
        new = segmenter.feed(frame)
        if any(isinstance(e, SpeechStarted) and e.joined is not None for e in new):
            segmenter.detach()  # in the daemon: the first part's reply was heard
        heard += new
    heard += segmenter.flush()
    early, second = (e for e in heard if isinstance(e, SpeechEnded))
    rejoin = next(e for e in heard if isinstance(e, SpeechStarted) and e.joined is not None)

    assert second.start == rejoin.start > early.end and second.onset == rejoin.onset
    np.testing.assert_array_equal(second.audio, scene.audio[second.start : second.end])


def test_detach_changes_nothing_of_an_utterance_that_is_no_rejoin() -> None:
    scene = paused(1.3)
    segmenter = Segmenter(DEFAULTS, turn_model=Scripted(SURE))
    heard: list[Event] = []
    for frame in frames(scene.audio):
        new = segmenter.feed(frame)
        if any(isinstance(e, SpeechStarted) for e in new):
            segmenter.detach()
        heard += new
    heard += segmenter.flush()

    expected = events(scene)
    assert [(type(e), e.at) for e in heard] == [(type(e), e.at) for e in expected]


@pytest.mark.parametrize(
    ("pause_s", "rejoins"), [(0.9, True), (1.0, True), (1.02, False), (1.3, False)]
)
def test_an_early_end_is_rejoinable_until_speech_can_no_longer_rejoin_it(
    pause_s: float, rejoins: bool
) -> None:
    """``rejoinable`` (which holds the reply to a question that sounds unfinished) stays true
    from the early end until the speech that rejoins it opens, or, when none does, until
    ``turn_rejoin_ms`` of silence has passed; then it stays false. Speech that begins inside
    the window opens after it (here 30–130 ms after): the reply is held until then."""
    scene = paused(pause_s)
    segmenter = Segmenter(DEFAULTS, turn_model=Scripted(SURE))
    early: SpeechEnded | None = None
    said: list[tuple[int, bool]] = []  # (frame end, rejoinable) from the early end on
    joined_at: int | None = None
    for frame in frames(scene.audio):
        for event in segmenter.feed(frame):
            if isinstance(event, SpeechEnded) and early is None:
                early = event
            if isinstance(event, SpeechStarted) and event.joined is not None:
                joined_at = event.at
        if early is not None:
            said.append((frame.start + frame.samples.size, segmenter.rejoinable(early.start)))
    assert early is not None

    first_false = next(i for i, (_, ok) in enumerate(said) if not ok)
    assert not any(ok for _, ok in said[first_false:]), "once false, it stays false"
    released_at = said[first_false][0]
    window = early.offset + ms(DEFAULTS.turn_rejoin_ms)
    assert (joined_at is not None) is rejoins
    if joined_at is not None:
        assert released_at == joined_at > window, "held until the speech rejoined it"
    else:
        assert window < released_at <= window + ms(30), "let go as the window closed"


def ms(value: float) -> int:
    return round(value * RATE / 1000)
