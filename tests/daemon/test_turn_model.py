"""The turn model in the daemon (replay mode): a finished question is answered once, early."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.audio.recordings import prompt
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
