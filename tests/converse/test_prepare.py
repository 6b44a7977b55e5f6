"""The speculation contract: the request prepared ahead of a turn is the turn's first request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.converse.conftest import Heard, conversation
from tests.groqsim import ChatReply, GroqSim
from voiced.converse.recorder import HistoryWriter
from voiced.groq.client import GroqClient

NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


async def test_the_prepared_request_is_the_one_the_turn_sends_first(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    c = conversation(client, history)
    c._now = lambda: NOON  # the prompt's clock has minutes: both see the same one
    groqsim.enqueue("chat", ChatReply(content="Noon."), ChatReply(content="The third."))
    await c.ask("What time is it?", Heard())  # a history for the next turn's context

    prepared = await c.prepare("And the date?")
    ahead = c.request(prepared.messages).to_body(stream=True)
    await c.ask("And the date?", Heard())

    sent = groqsim.requests_for("chat")[-1].json
    assert sent == ahead
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]


async def test_preparing_stores_nothing(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    c = conversation(client, history)
    c._now = lambda: NOON
    prepared = await c.prepare("What time is it?")
    again = await c.prepare("What time is it?")
    assert prepared == again
    assert groqsim.requests_for("chat") == []


async def test_a_turn_asked_at_the_prepared_moment_sends_the_prepared_request_after_the_minute(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    c = conversation(client, history)
    moments = iter([NOON - timedelta(seconds=1), NOON])
    c._now = lambda: next(moments)  # speculation at 11:59:59, the turn at 12:00:00
    groqsim.enqueue("chat", ChatReply(content="Noon."))
    prepared = await c.prepare("What time is it?")
    ahead = c.request(prepared.messages).to_body(stream=True)
    assert "11:59" in ahead["messages"][0]["content"]

    await c.ask("What time is it?", Heard(), at=prepared.at)

    assert groqsim.requests_for("chat")[-1].json == ahead
    assert next(moments) == NOON  # the turn did not read the clock again
