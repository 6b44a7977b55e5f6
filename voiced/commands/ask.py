"""``voiced ask``: one question, the answer streamed to stdout."""

from __future__ import annotations

import argparse
import sys

from voiced.commands.common import run_with_client, settings
from voiced.errors import BadRequestError, InputError
from voiced.groq.client import GroqClient
from voiced.groq.models import ChatRequest, Message

JSON_SYSTEM = "Reply with a single JSON object and nothing else."


def run(args: argparse.Namespace) -> int:
    """Ask the question in ``args.text`` (or stdin) and print the answer as it arrives."""
    question = " ".join(args.text).strip() if args.text else _stdin()
    if not question:
        raise InputError("no question given", 'try: voiced ask "what is the capital of Peru?"')
    loaded = settings()
    system = args.system if args.system is not None else (JSON_SYSTEM if args.json else None)
    messages = ((Message.system(system),) if system else ()) + (Message.user(question),)
    request = ChatRequest(
        model=args.model or loaded.chat.model,
        messages=messages,
        temperature=loaded.chat.temperature,
        max_completion_tokens=loaded.chat.max_completion_tokens,
        reasoning_effort=loaded.chat.reasoning_effort,
        response_format={"type": "json_object"} if args.json else None,
    )

    async def work(client: GroqClient) -> int:
        if args.json:
            return await _ask_json(client, request)
        at_line_start = True
        async with client.stream_chat(request) as stream:
            async for delta in stream:
                if delta.reasoning and args.reasoning:
                    sys.stderr.write(delta.reasoning)
                    sys.stderr.flush()
                if delta.content:
                    sys.stdout.write(delta.content)
                    sys.stdout.flush()
                    at_line_start = delta.content.endswith("\n")
        if not at_line_start:
            sys.stdout.write("\n")
        return 0

    return run_with_client(loaded, work)


async def _ask_json(client: GroqClient, request: ChatRequest) -> int:
    """JSON mode does not stream: send once and print the object."""
    try:
        reply = await client.chat(request)
    except BadRequestError as exc:
        if exc.code == "json_validate_failed":
            raise BadRequestError(
                "the model's answer was not valid JSON (json_validate_failed); it wrote: "
                + (exc.failed_generation or "(nothing)").replace("\n", " ")[:500],
                "ask again, or name the JSON fields you want in the question",
                exc.details,
            ) from exc
        raise
    print(reply.content)
    return 0


def _stdin() -> str:
    return "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
