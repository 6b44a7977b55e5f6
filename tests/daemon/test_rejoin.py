"""A thinking pause taken for the end (replay mode): the speaker goes on, and the turn the first
part began is withdrawn; the whole sentence is answered as one question."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile  # type: ignore[import-untyped]

from tests.audio.recordings import prompt
from tests.audio.speech import RATE, Scene
from tests.daemon.replaying import Replayed, replay, settings_for, transcript
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


HALF_TO = "vm-changeto"
""""Change to which folder?", cut at her longest inner pause (after "Change to"): Smart Turn is
unsure of the first part (about 0.3), so it ends after the 700 ms hangover of the 0.9 s pause,
and the reply to it would start before she goes on."""


def _sentence(name: str = SENTENCE) -> tuple[str, np.ndarray, np.ndarray]:
    for said, first, rest in real_halves():
        if said.name == name:
            return said.text, first, rest
    raise LookupError(name)


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


def _paused_sentence(
    groqsim: GroqSim, name: str = SENTENCE, mark: str = ""
) -> tuple[str, str, Scene]:
    """The sentence with its thinking pause, laid out, and the loopback server told to
    transcribe each upload as the words it holds (the first part followed by ``mark``).
    Returns the text, its first part, the scene.
    """
    text, first, rest = _sentence(name)
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
        said = {
            (True, True): text,
            (True, False): part + mark,
            (False, True): text[len(part) :],
        }
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


def _withdrawn_heard_ms(run: Replayed) -> list[int]:
    """How much of its reply had been heard when each turn was withdrawn (the daemon's log)."""
    logged = [e["message"] for e in run.of("log") if "withdrawn: the speaker" in e["message"]]
    return [int(m.split("(")[1].split()[0]) for m in logged]


async def test_the_reply_to_half_a_sentence_waits_out_the_pause_so_none_of_it_is_heard(
    groqsim: GroqSim, home: Path
) -> None:
    """ "Change to." (Whisper puts a full stop after half a sentence as readily as after a whole
    one) ends on "to": its reply waits until speech can no longer rejoin it. She goes on
    within the pause, so the turn is withdrawn before a word of its reply is heard, and the
    whole sentence is answered: without echo cancellation too (the harder case: voiced cannot
    tell her voice from its own over an audible reply), as nothing played. Without the hold
    the reply is audible when she goes on: the rejoin is refused, and the whole sentence is
    never asked."""
    text, part, scene = _paused_sentence(groqsim, HALF_TO, ".")
    onset, offset = scene.utterances[0]
    for _ in range(4):
        groqsim.enqueue("chat", ChatReply(content="Moved.", ttft=0.2))
    settings = settings_for(groqsim, home, turn_model=True, echo_cancelled=False)
    run = await replay(scene, settings, home)

    assert run.code == 0
    asked = [e["text"] for e in run.of("transcript") if e["accepted"]]
    assert asked == [part + ".", text], "the first part's turn began, then the whole one's"
    assert _stored_questions(home) == [text]
    assert [e["turn"] for e in run.of("turn_withdrawn")] == [1]
    assert _withdrawn_heard_ms(run) == [0], "withdrawn before any of its reply was heard"
    assert run.silent(onset, offset), "no reply audio before she finished the sentence"
    assert run.loud_at(offset) is not None, "the whole question was answered"


async def test_with_the_hold_off_the_reply_to_half_a_sentence_is_heard_until_withdrawn(
    groqsim: GroqSim, home: Path
) -> None:
    """``rejoin_hold = false``: the reply plays as soon as it is ready, and the user hears its
    start before the rejoin withdraws it (the echo is cancelled: the rejoin still holds)."""
    text, _, scene = _paused_sentence(groqsim, HALF_TO, ".")
    onset, offset = scene.utterances[0]
    for _ in range(4):
        groqsim.enqueue("chat", ChatReply(content="Moved.", ttft=0.2))
    settings = settings_for(groqsim, home, turn_model=True, rejoin_hold=False)
    run = await replay(scene, settings, home)

    assert run.code == 0
    assert [e["text"] for e in run.of("transcript") if e["accepted"]][-1] == text
    heard = _withdrawn_heard_ms(run)
    assert len(heard) == 1 and heard[0] > 0, heard
    assert not run.silent(onset, offset), "the reply to the first part was heard"
    assert not [e for e in run.of("log") if e["message"].startswith("reply held")]


async def test_a_reply_to_a_question_that_sounds_unfinished_plays_whole_once_the_pause_is_over(
    groqsim: GroqSim, home: Path
) -> None:
    """ "Please try again." without its final mark: Smart Turn ends it early, and its reply
    waits until speech can no longer rejoin it (``turn_rejoin_ms`` of silence), then plays
    whole, as nobody went on. (With the mark it plays at once:
    test_turn_model.py's ``test_a_finished_real_question_is_answered_once_and_before_…``.)"""
    spoken = prompt("please-try-again")
    scene = lay_out("turn", [0.8, [spoken.audio[: spoken.audio.size // 160 * 160]], 3.0])
    groqsim.enqueue("transcriptions", transcript("Please try again"))
    groqsim.enqueue("chat", ChatReply(content="Trying again.", ttft=0.1))
    settings = settings_for(groqsim, home, turn_model=True)
    # A window long enough that the reply is surely ready (and waiting) when it closes, even
    # on a busy machine: then its first audio dates the release.
    settings = replace(settings, listen=replace(settings.listen, turn_rejoin_ms=1500))
    run = await replay(scene, settings, home)

    reply = run.one("assistant_text", turn=1)
    assert reply["text"] == "Trying again." and not reply["interrupted"], "it played whole"
    first_audio = run.one("timeline", turn=1)["first_audio_ms"]
    rejoin = settings.listen.turn_rejoin_ms
    assert rejoin <= first_audio < rejoin + 100, "released as the pause could no longer rejoin"
    logged = [e["message"] for e in run.of("log") if e["message"].startswith("reply held")]
    assert len(logged) == 1 and logged[0].endswith("(has no final mark)"), logged
    assert int(logged[0].split()[2]) > 0, "its audio was ready, and waited for the release"
