"""What the commands share: settings, a client, and errors enriched for the user."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from voiced import logs
from voiced.config import Settings, load_settings
from voiced.errors import ModelNotFoundError, VoicedError
from voiced.groq.client import GroqClient, options_from_settings

T = TypeVar("T")


def settings() -> Settings:
    """Load the settings and make sure the key never reaches a log."""
    loaded = load_settings()
    logs.protect(loaded.api_key)
    return loaded


def run_with_client(loaded: Settings, work: Callable[[GroqClient], Awaitable[T]]) -> T:
    """Run ``work`` with a client on a fresh event loop; name real models on a 404.

    Args:
        loaded: The settings the client is built from.
        work: The coroutine function to run.

    Raises:
        VoicedError: Whatever ``work`` raised; a ModelNotFoundError gains the list of models.
    """

    async def main() -> T:
        async with GroqClient(options_from_settings(loaded)) as client:
            try:
                return await work(client)
            except ModelNotFoundError as exc:
                raise await _with_model_list(client, exc) from exc

    return asyncio.run(main())


async def _with_model_list(client: GroqClient, exc: ModelNotFoundError) -> VoicedError:
    try:
        models = await client.list_models()
    except VoicedError:
        return exc
    ids = ", ".join(m.id for m in models if m.active)
    return type(exc)(exc.message, f"models available: {ids}", exc.details)
