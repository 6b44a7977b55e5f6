"""The speculation contract: the request prepared ahead of a turn is the turn's first request."""

from __future__ import annotations

from datetime import UTC, datetime

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
