"""A thinking pause taken for the end (replay mode): the speaker goes on, and the turn the first
part began is withdrawn; the whole sentence is answered as one question."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile  # type: ignore[import-untyped]

from tests.audio.speech import RATE, Scene
from tests.daemon.replaying import replay, settings_for, transcript
from tests.groqsim import ChatReply, GroqSim, ToolCall, Transcript
from tests.listen.realscenes import real_halves, with_pause
from tests.listen.scenes import lay_out
from voiced.converse.history import HistoryStore

pytestmark = pytest.mark.realtime

PAUSE_S = 0.9
SENTENCE = "entr-num-rmv-blklist"
""""Please enter the number to be removed from the blacklist.", cut at her longest inner pause
(after "number"): Smart Turn is sure the first part is a finished turn (0.98), so it ends after
400 ms of the 0.9 s pause."""


def _sentence() -> tuple[str, np.ndarray, np.ndarray]:
    for said, first, rest in real_halves():
        if said.name == SENTENCE:
            return said.text, first, rest
    raise LookupError(SENTENCE)


def _holds(audio: np.ndarray, needle: np.ndarray) -> bool:
    """Whether ``needle`` (a few samples of the recording) lies in ``audio``."""
    at = np.flatnonzero(audio == needle[0])
    return any(np.array_equal(audio[i : i + needle.size], needle) for i in at)


def _stored_questions(home: Path) -> list[str]:
    store = HistoryStore(home / "data" / "voiced" / "history.sqlite3")
    try:
        return [
            m.content
            for c in store.conversations(10)
            for t in store.conversation(c.id).turns
            for m in t.messages
            if m.role == "user"
        ]
    finally:
        store.close()


def _paused_sentence(groqsim: GroqSim) -> tuple[str, str, Scene]:
    """The sentence with its thinking pause, laid out, and the loopback server told to
    transcribe each upload as the words it holds. Returns the text, its first part, the scene.
    """
    text, first, rest = _sentence()
    words = text.split()
    part = " ".join(words[: round(len(words) * first.size / (first.size + rest.size))])
    scene = lay_out("pause", [0.8, [with_pause(first, rest, PAUSE_S)], 3.0])

    onset, _ = scene.utterances[0]
    resumed = onset + first.size + int(PAUSE_S * RATE)
    has_first = scene.audio[onset + first.size // 2 :][:64]
    has_rest = scene.audio[resumed + rest.size // 2 :][:64]

    def heard(upload: bytes) -> Transcript:
        """The words said in an upload: the first part, the rest, or all of it."""
        audio, _ = soundfile.read(io.BytesIO(upload), dtype="int16")
        holds = [_holds(np.asarray(audio, dtype=np.int16), n) for n in (has_first, has_rest)]
        said = {(True, True): text, (True, False): part, (False, True): text[len(part) :]}
        return transcript(said.get((holds[0], holds[1]), "").strip())

    groqsim.transcriber = heard
    return text, part, scene


@pytest.mark.parametrize("rejoin_ms", [1000, 0], ids=["rejoin", "no-rejoin"])
async def test_a_real_sentence_with_a_thinking_pause_taken_for_its_end_is_answered_as_one_question(
    groqsim: GroqSim, home: Path, rejoin_ms: int
) -> None:
    text, part, scene = _paused_sentence(groqsim)
    onset, offset = scene.utterances[0]
    for _ in range(4):
        groqsim.enqueue("chat", ChatReply(content="Deleted.", ttft=0.2))
    settings = settings_for(groqsim, home, turn_model=True)
    settings = replace(settings, listen=replace(settings.listen, turn_rejoin_ms=rejoin_ms))
    run = await replay(scene, settings, home)

    assert run.code == 0
    asked = [e["text"] for e in run.of("transcript") if e["accepted"]]
    stored = _stored_questions(home)
    if rejoin_ms == 0:  # the early end stands: two questions (what this feature mends)
        rest = text[len(part) :].strip()
        assert asked == [part, rest] and stored == [part, rest], (asked, stored)
        assert not run.of("turn_withdrawn"), "no turn was withdrawn"
        return
    assert asked[-1] == text, asked
    assert stored == [text], "nothing of the withdrawn turn is kept in the history"
    withdrawn = [e for e in run.of("log") if "withdrawn" in e.get("message", "")]
    assert len(asked) == 1 or withdrawn, "a turn begun for the first part was withdrawn"
    # clients are told, once, of each turn begun before the whole question's (its first part's)
    started = [e["turn"] for e in run.of("transcript") if e["accepted"]]
    told = [e["turn"] for e in run.of("turn_withdrawn")]
    assert told == started[:-1], (told, run.of("transcript"))
    # The reply to the whole sentence plays after it; of the withdrawn one, at most what
    # played before the speaker went on (rejoin_heard_ms) and until the speech was heard as
    # the user's over it (barge_in_min_ms), and in practice far less.
    heard = np.flatnonzero(np.abs(run.output[onset:offset].astype(np.int32)) > 500)
    limit = settings.daemon.rejoin_heard_ms + settings.daemon.barge_in_min_ms
    assert heard.size == 0 or heard[-1] - heard[0] < limit * RATE // 1000, heard
    assert run.loud_at(offset) is not None, "the whole question was answered"


async def test_a_turn_that_asked_for_a_tool_is_not_withdrawn_when_its_speaker_goes_on(
    groqsim: GroqSim, home: Path
) -> None:
    """What a tool did, or was asked to do, stays on the record: the first part's turn asked
    for one before the speaker went on, so it is kept, and what followed is a question of its
    own (asking the whole sentence again could run the tool twice, unseen)."""
    text, part, scene = _paused_sentence(groqsim)
    groqsim.enqueue("chat", ChatReply(tool_calls=[ToolCall("current_time", {})], ttft=0.05))
    for _ in range(4):
        groqsim.enqueue("chat", ChatReply(content="Deleted.", ttft=0.2))
    run = await replay(scene, settings_for(groqsim, home, turn_model=True), home)

    assert run.code == 0
    called = [e["turn"] for e in run.of("tool_call")]
    assert called[:1] == [1], f"the first part's turn asked for the tool: {called}"
    asked = [e["text"] for e in run.of("transcript") if e["accepted"]]
    rest = text[len(part) :].strip()
    assert asked == [part, rest], asked
    assert _stored_questions(home) == [part, rest], "the turn that asked for a tool is kept"
    assert not [e for e in run.of("log") if "withdrawn" in e.get("message", "")]
    assert not run.of("turn_withdrawn"), "clients are told of no withdrawal"
