"""The first-run key check the TUI's key screen runs: the key against the configured server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from voiced.config import Settings
from voiced.credentials import Secret


def server_check(settings: Settings) -> Callable[[Secret], Awaitable[None]]:
    """A key check that lists the models at the configured chat API root with the key.

    Args:
        settings: Where the API is and how long to wait for it.
    """
    from voiced.groq.client import GroqClient, options_from_settings

    async def check(key: Secret) -> None:
        options = replace(options_from_settings(settings), api_key=key, max_retries=0)
        async with GroqClient(options) as client:
            await client.list_models()

    return check
