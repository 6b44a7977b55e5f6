"""The turn model in the daemon (replay mode): a finished question is answered once, early."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.audio.recordings import prompt
from tests.audio.speech import speak
from tests.daemon.replaying import replay, settings_for, transcript
from tests.groqsim import ChatReply, GroqSim
from tests.listen.scenes import lay_out

pytestmark = pytest.mark.realtime


async def test_a_finished_real_question_is_answered_once_and_before_the_fixed_hangover(
    groqsim: GroqSim, home: Path
) -> None:
    said = prompt("please-try-again")  # "Please try again." in a human voice
    scene = lay_out("turn", [0.8, [said.audio[: said.audio.size // 160 * 160]], 3.0])
    groqsim.enqueue("transcriptions", transcript(said.text))
    groqsim.enqueue("chat", ChatReply(content="Trying again.", ttft=0.1))
    run = await replay(scene, settings_for(groqsim, home, turn_model=True), home)

    assert [e["text"] for e in run.of("transcript")] == [said.text]
    assert run.one("assistant_text", turn=1)["text"] == "Trying again."
    assert len(groqsim.requests_for("transcriptions")) == 1, "no request was wasted"
    timeline = run.one("timeline", turn=1)
    assert timeline["speculative"] is True
    # Smart Turn hears it as finished: it ends after turn_complete_ms (400 ms) of quiet, not
    # the fixed 700 ms hangover.
    assert timeline["end_confirmed_ms"] < 650, timeline
    # It sounds finished ("." after "again"): its reply is not held for the rejoin window
    # (test_rejoin.py) but plays as soon as it is ready (how soon is bench/turn_latency.py's).
    assert not [e for e in run.of("log") if e["message"].startswith("reply held")]


async def test_in_wake_mode_speech_sent_at_every_short_silence_still_never_leaves_unaddressed(
    groqsim: GroqSim, home: Path
) -> None:
    # The turn model sends the utterance so far at each pause's first 60 ms of silence; the
    # privacy rule (only what was addressed to voiced may leave) applies to those sends too.
    chatter = [prompt("priv-introsaved"), prompt("vm-rec-name")]  # sentences with pauses
    parts: list[object] = [0.8]
    for said in chatter:
        parts += [[said.audio[: said.audio.size // 160 * 160]], 2.0]
    scene = lay_out("chatter", parts)  # type: ignore[arg-type]
    settings = settings_for(groqsim, home, turn_model=True, mode="wake")
    run = await replay(scene, settings, home)

    assert run.code == 0
    assert len(run.of("speech_paused")) >= 2, "it paused (and would have sent) in each"
    assert len(groqsim.requests_for("transcriptions")) == 0, "no audio left the machine"
    assert len(groqsim.requests_for("chat")) == 0
    assert not run.of("transcript")


@pytest.mark.parametrize("turn_text", [True, False], ids=["turn_text", "model-only"])
async def test_a_question_the_model_holds_open_is_answered_once_its_early_transcript_asks_it(
    groqsim: GroqSim, home: Path, turn_text: bool
) -> None:
    # Smart Turn hears this espeak-ng question as unfinished (p ≈ 0.01): on its own it waits
    # turn_incomplete_ms (1.2 s). Its early transcript, back 300 ms after the first short
    # silence, ends in "?": the turn ends after turn_complete_ms instead.
    asked = "What is the square root of two?"
    scene = lay_out("held", [0.8, [speak(asked, "en-gb", 150)], 3.0])
    for _ in range(6):  # one per short silence inside the question, and the end
        groqsim.enqueue("transcriptions", replace(transcript(asked), delay=0.3))
    groqsim.enqueue("chat", ChatReply(content="About 1.414.", ttft=0.1))
    settings = settings_for(groqsim, home, turn_model=True)
    settings = replace(settings, listen=replace(settings.listen, turn_text=turn_text))
    run = await replay(scene, settings, home)

    assert [e["text"] for e in run.of("transcript")] == [asked]
    assert run.one("assistant_text", turn=1)["text"] == "About 1.414."
    timeline = run.one("timeline", turn=1)
    incomplete = settings.listen.turn_incomplete_ms
    if turn_text:
        assert timeline["speculative"] is True
        assert timeline["end_confirmed_ms"] < incomplete - 400, timeline
    else:
        assert timeline["end_confirmed_ms"] >= incomplete, "the model held it open"
