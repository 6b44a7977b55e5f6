"""Real voices: Allison Smith's recorded prompts (a human voice, tests/audio/recordings.py, fetched
with apt-get download) over silence, music on hold and noise, through the default segmenter
(Silero says where speech ends, Smart Turn v3.2 judges each pause)."""

from __future__ import annotations

import statistics
from dataclasses import replace

import pytest

from tests.audio.recordings import Prompt, sentences
from tests.audio.speech import RATE, Scene
from tests.listen.harness import ended, run
from tests.listen.realscenes import CONDITIONS, background, espeak_halves, prompt_scene, with_pause
from tests.listen.scenes import lay_out
from voiced.config import ListenSettings
from voiced.listen import Segmenter, SpeechEnded, TentativeEnd

DEFAULTS = ListenSettings()
FIXED = replace(DEFAULTS, turn_model=False, confirm_end=False)
"""voiced before the turn model: the end is 700 ms of silence measured by the level."""
MS = RATE // 1000

pytestmark = pytest.mark.slow


def holders(found: list[SpeechEnded], scene: Scene, onset: int, offset: int) -> list[SpeechEnded]:
    """The uploads that hold more than 1 % of an utterance's speech energy."""
    energy = scene.speech_energy(onset, offset)
    return [
        u
        for u in found
        if u.start < offset
        and u.end > onset
        and scene.held(u.start, u.end, onset, offset) > 0.01 * energy
    ]


def test_sixty_real_prompts_over_music_and_noise_are_each_uploaded_in_one_piece() -> None:
    chosen = sentences(60)
    conditions = list(CONDITIONS)  # clean, music 15 dB, music 10 dB, noise 10 dB
    heard = 0
    for i in range(0, len(chosen), 5):
        condition = conditions[(i // 5) % len(conditions)]
        scene = prompt_scene(f"real{i}", chosen[i : i + 5], condition, seed=i)
        found = ended(run(Segmenter(DEFAULTS), scene.audio))
        for (onset, offset), said in zip(scene.utterances, chosen[i : i + 5], strict=True):
            pieces = holders(found, scene, onset, offset)
            assert len(pieces) == 1, f"{said.name!r} ({condition}) in {len(pieces)} uploads"
            (piece,) = pieces
            held = scene.held(piece.start, piece.end, onset, offset)
            assert held >= 0.995 * scene.speech_energy(onset, offset), said.name
            heard += 1
    assert heard == 60


def _over_music(group: tuple[Prompt, ...], snr: float, seed: int) -> Scene:
    """Prompts 3 s apart (longer than an unfinished turn's 2 s) over music on hold."""
    parts: list[object] = [1.0]
    for p in group:
        parts += [[p.audio[: p.audio.size // 160 * 160]], 3.0]
    seconds = 1.0 + sum(p.audio.size / RATE + 3.0 for p in group)
    music = background("music", seconds + 1, seed)
    return lay_out(f"music{seed}", parts, music, snr, seed=seed)  # type: ignore[arg-type]


@pytest.mark.parametrize("snr", [15.0, 10.0], ids=["15dB", "10dB"])
def test_real_speech_over_music_is_uploaded_whole_and_ends_on_the_words(snr: float) -> None:
    # Before: the upload ran on with the music until max_utterance_s cut it.
    chosen = sentences(60)[2:22]
    after: list[float] = []
    for g in range(0, len(chosen), 5):
        scene = _over_music(chosen[g : g + 5], snr, g)
        found = ended(run(Segmenter(DEFAULTS), scene.audio))
        for onset, offset in scene.utterances:
            pieces = holders(found, scene, onset, offset)
            held = sum(scene.held(u.start, u.end, onset, offset) for u in pieces)
            assert held >= 0.995 * scene.speech_energy(onset, offset)
            after.append((pieces[-1].end - offset) / MS)
    # The target is 400 ms; the worst (an end Silero hears late in the music) is reported by
    # bench/turn_segments.py.
    assert statistics.median(after) <= 400, after
    assert max(after) <= 1000, after


@pytest.mark.parametrize("snr", [15.0, 10.0], ids=["15dB", "10dB"])
def test_every_real_prompt_over_music_is_uploaded_ending_within_400_ms_of_its_last_word(
    snr: float,
) -> None:
    # Issue 15's target, for every prompt, not the median: bench/turn_segments.py's scenes
    # (the first 20 prompts) and 40 more prompts over other stretches of the music. Before:
    # music after the words that Silero scored above the end threshold (a lone chunk, or runs
    # of chunks up to 0.89) resumed the utterance and moved its end into the music (main:
    # 1000 ms at 15 dB and 720 ms at 10 dB on the bench's scenes; 3810 ms on the others).
    bench = sentences()[:20]
    more = sentences(60)[20:60]
    scenes = [
        prompt_scene(f"m{i}", bench[i : i + 5], f"music {snr:g} dB", seed=i)
        for i in range(0, len(bench), 5)
    ] + [
        prompt_scene(f"h{i}", more[i : i + 5], f"music {snr:g} dB", seed=100 + i)
        for i in range(0, len(more), 5)
    ]
    after: dict[str, float] = {}
    for scene in scenes:
        found = ended(run(Segmenter(DEFAULTS), scene.audio))
        for k, (onset, offset) in enumerate(scene.utterances):
            pieces = holders(found, scene, onset, offset)
            held = sum(scene.held(u.start, u.end, onset, offset) for u in pieces)
            assert held >= 0.995 * scene.speech_energy(onset, offset), (scene.name, k)
            after[f"{scene.name}#{k}"] = (pieces[-1].end - offset) / MS

    assert len(after) == 60
    late = {name: ms for name, ms in after.items() if ms > 400}
    assert not late, late


@pytest.mark.parametrize("pause_s", [0.9, 1.2])
def test_a_thinking_pause_where_a_sentence_plainly_goes_on_does_not_split_it(
    pause_s: float,
) -> None:
    # Before: every one of them was split after the fixed 700 ms hangover.
    for i, (first, rest) in enumerate(espeak_halves()):
        scene = prompt_scene("thinking", [with_pause(first, rest, pause_s)], "clean", seed=i)
        (onset, offset) = scene.utterances[0]
        found = ended(run(Segmenter(DEFAULTS), scene.audio))

        assert len(holders(found, scene, onset, offset)) == 1, (i, pause_s)


def test_a_finished_real_sentence_is_sent_at_its_first_short_silence_and_ends_early() -> None:
    # The real model, not a scripted one. Fixed timing sends it after 200-250 ms of silence
    # and ends it after 700 ms.
    chosen = sentences(60)[:20]
    sent: list[float] = []
    done_at: list[float] = []
    for g in range(0, len(chosen), 5):
        scene = prompt_scene("finished", chosen[g : g + 5], "clean", seed=g)
        events = run(Segmenter(DEFAULTS), scene.audio)
        found = ended(events)
        for onset, offset in scene.utterances:
            # The upload that holds it (sent at the first short silence, it may end a few ms
            # before a faint final consonant).
            (done,) = holders(found, scene, onset, offset)
            if done.turn is None or done.turn.verdict != "complete":
                continue
            (early,) = [
                e for e in events if isinstance(e, TentativeEnd) and offset <= e.at <= done.at
            ]
            sent.append((early.at - offset) / MS)
            done_at.append((done.at - offset) / MS)
    assert len(sent) >= 15, "at least three in four of her sentences sound finished"
    assert statistics.median(sent) <= 150, sent
    assert statistics.median(done_at) <= 550, done_at
