"""Usage and cost: transcriptions billed as at least ten seconds, chat by tokens."""

from __future__ import annotations

import pytest

from voiced.groq.models import Usage
from voiced.pipeline.costs import Meter, billed_seconds
from voiced.protocol import Event, UsageReport


def test_a_short_transcription_is_billed_as_ten_seconds() -> None:
    assert billed_seconds(1.7) == 10.0
    assert billed_seconds(42.5) == 42.5


def test_each_request_is_priced_and_the_session_adds_up() -> None:
    seen: list[Event] = []
    meter = Meter(seen.append, turn=lambda: 4)
    stt = meter.transcription("whisper-large-v3-turbo", 2.0)
    assert stt.billed_s == 10.0 and stt.cost_usd == pytest.approx(0.04 / 360)
    large = meter.transcription("whisper-large-v3", 20.0)
    assert large.cost_usd == pytest.approx(0.111 * 20 / 3600)
    chat = meter.chat("openai/gpt-oss-20b", Usage(prompt_tokens=1000, completion_tokens=100))
    assert chat is not None and chat.cost_usd == pytest.approx((1000 * 0.075 + 100 * 0.30) / 1e6)
    total = stt.cost_usd + large.cost_usd + chat.cost_usd  # type: ignore[operator]
    assert chat.session_cost_usd == pytest.approx(total, abs=1e-6)
    assert [e.turn for e in seen if isinstance(e, UsageReport)] == [4, 4, 4]


def test_a_model_without_a_known_price_is_reported_without_a_cost() -> None:
    seen: list[Event] = []
    meter = Meter(seen.append)
    report = meter.chat("someone/new-model", Usage(prompt_tokens=5, completion_tokens=5))
    assert report is not None and report.cost_usd is None and report.session_cost_usd == 0.0
    assert meter.chat("openai/gpt-oss-20b", None) is None
