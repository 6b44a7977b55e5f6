"""``voiced models``: the models the service offers, with the configured ones marked."""

from __future__ import annotations

import argparse
import sys

from voiced.commands.common import run_with_client, settings
from voiced.groq.client import GroqClient
from voiced.groq.models import ModelInfo


def run(args: argparse.Namespace) -> int:
    """Print the models table; warn about configured models the service does not list."""
    loaded = settings()
    configured = {
        loaded.chat.model: "chat",
        loaded.stt.model: "transcribe",
    }
    if loaded.stt.translation_model in configured:
        configured[loaded.stt.translation_model] += ", translate"
    else:
        configured[loaded.stt.translation_model] = "translate"

    async def work(client: GroqClient) -> list[ModelInfo]:
        return await client.list_models()

    models = run_with_client(loaded, work)
    print(table(models, configured), end="")
    listed = {m.id for m in models}
    for model_id, role in configured.items():
        if model_id not in listed:
            print(
                f"voiced: warning: the configured {role} model {model_id!r} is not offered by "
                "the service; pick one from the list above",
                file=sys.stderr,
            )
    return 0


def table(models: list[ModelInfo], configured: dict[str, str]) -> str:
    """Render models as an aligned table; configured ones carry a ``*`` and their role."""
    rows = [("", "ID", "OWNER", "CONTEXT", "ACTIVE", "USED FOR")]
    for m in models:
        rows.append(
            (
                "*" if m.id in configured else "",
                m.id,
                m.owned_by,
                f"{m.context_window:,}" if m.context_window else "-",
                "yes" if m.active else "no",
                configured.get(m.id, ""),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines) + "\n"
