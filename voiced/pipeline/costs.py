"""What each request costs, and the session's total, reported as usage events."""

from __future__ import annotations

from collections.abc import Callable

from voiced.groq.models import Usage
from voiced.groq.ratelimit import RateLimit
from voiced.protocol.events import Event
from voiced.protocol.reports import RateLimitSnapshot, UsageReport

MIN_BILLED_S = 10.0
"""Groq bills every transcription request as at least this many seconds of audio."""

STT_USD_PER_HOUR = {
    "whisper-large-v3-turbo": 0.04,
    "whisper-large-v3": 0.111,
    "distil-whisper-large-v3-en": 0.02,
}
"""Speech-to-text prices in US dollars per hour of audio (Groq's price list)."""

CHAT_USD_PER_MILLION = {
    "openai/gpt-oss-20b": (0.075, 0.30),
    "openai/gpt-oss-120b": (0.15, 0.60),
    "llama-3.1-8b-instant": (0.05, 0.08),
    "llama-3.3-70b-versatile": (0.59, 0.79),
    "meta-llama/llama-4-scout-17b-16e-instruct": (0.11, 0.34),
    "meta-llama/llama-4-maverick-17b-128e-instruct": (0.20, 0.60),
    "qwen/qwen3-32b": (0.29, 0.59),
    "moonshotai/kimi-k2-instruct": (1.00, 3.00),
}
"""Chat prices in US dollars per million (input, output) tokens, from Groq's price list;
a model missing here is reported without a cost."""


def billed_seconds(audio_s: float) -> float:
    """The seconds Groq bills for one transcription of ``audio_s`` seconds."""
    return max(MIN_BILLED_S, audio_s)


class Meter:
    """Prices each request and keeps the session's total.

    Args:
        publish: Where usage and rate-limit events go (the bus).
        turn: The number of the turn requests are counted against.
    """

    def __init__(
        self, publish: Callable[[Event], None], turn: Callable[[], int] = lambda: 0
    ) -> None:
        self.publish, self.turn = publish, turn
        self.session_usd = 0.0

    def transcription(self, model: str, audio_s: float) -> UsageReport:
        """Count one transcription request."""
        billed = billed_seconds(audio_s)
        rate = STT_USD_PER_HOUR.get(model)
        cost = None if rate is None else rate * billed / 3600
        return self._report(
            UsageReport(
                turn=self.turn(),
                kind="stt",
                model=model,
                audio_s=round(audio_s, 3),
                billed_s=round(billed, 3),
                cost_usd=cost,
            )
        )

    def chat(self, model: str, usage: Usage | None) -> UsageReport | None:
        """Count one chat request (nothing when the server sent no usage)."""
        if usage is None:
            return None
        prices = CHAT_USD_PER_MILLION.get(model)
        cost = None
        if prices is not None:
            cost = (usage.prompt_tokens * prices[0] + usage.completion_tokens * prices[1]) / 1e6
        return self._report(
            UsageReport(
                turn=self.turn(),
                kind="chat",
                model=model,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cost_usd=cost,
            )
        )

    def ratelimit(self, snapshot: RateLimit | None) -> None:
        """Publish the latest rate-limit snapshot, if the response carried one."""
        if snapshot is None:
            return
        self.publish(
            RateLimitSnapshot(
                remaining_requests=snapshot.remaining_requests,
                limit_requests=snapshot.limit_requests,
                remaining_tokens=snapshot.remaining_tokens,
                limit_tokens=snapshot.limit_tokens,
                reset_requests_s=snapshot.reset_requests,
                reset_tokens_s=snapshot.reset_tokens,
            )
        )

    def _report(self, report: UsageReport) -> UsageReport:
        self.session_usd += report.cost_usd or 0.0
        report = UsageReport(**{**report.__dict__, "session_cost_usd": round(self.session_usd, 6)})
        self.publish(report)
        return report
