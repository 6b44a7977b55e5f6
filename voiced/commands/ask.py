"""``voiced ask``: one turn of the conversation, tools included, streamed to stdout (and spoken)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TextIO

from voiced.commands.askparams import AskParams
from voiced.commands.common import run_with_client, settings
from voiced.commands.textin import given_text
from voiced.config import Settings
from voiced.converse.reasoning import ThinkSplitter
from voiced.converse.tools.registry import MAX_TOOL_CHARS, MAX_TOOLS
from voiced.converse.tools.runner import ConfirmRequest
from voiced.errors import BadRequestError, InputError
from voiced.groq.client import GroqClient
from voiced.groq.models import ChatRequest, Message

if TYPE_CHECKING:
    from voiced.converse.conversation import Conversation
    from voiced.mcp.manager import ServerState
    from voiced.speak.speaker import Speaker, SpokenReply

JSON_SYSTEM = "Reply with a single JSON object and nothing else."


def run(args: argparse.Namespace) -> int:
    """Ask the question in ``args.text`` (or stdin) and print the answer as it arrives.

    The question joins the current conversation (a new one after ``[conversation]
    idle_gap_minutes``, or with ``--new``), may use tools (not with ``--no-tools``), and is
    stored in the history; ``--speak`` also speaks the answer as it streams. ``--json`` asks
    once, without history or tools (JSON mode cannot use tools). The sampling and reasoning
    flags (``--temperature``, ``--stop``, …) override ``[chat]`` for this question; values
    out of range, and combinations Groq refuses, stop it before anything is sent.
    """
    question = given_text(args.text)
    if not question:
        raise InputError("no question given", 'try: voiced ask "what is the capital of Peru?"')
    loaded = settings()
    params = AskParams.from_args(loaded.chat, args)
    loaded = replace(loaded, chat=params.chat)
    if args.json:
        params.check(json_mode=True, tools=False)
        return run_with_client(loaded, lambda client: _ask_json(client, args, loaded, question))

    from voiced.converse.session import open_conversation

    turn = Turn(question, getattr(args, "new", False), args.system, args.reasoning)

    offer_tools = getattr(args, "tools", True)

    async def work(client: GroqClient) -> int:
        from voiced.mcp.manager import running_servers

        servers = loaded.mcp.servers if offer_tools else ()
        async with (
            running_servers(servers, McpNotes()) as mcp,  # started at once, beside the history
            open_conversation(
                client,
                loaded,
                confirm=TerminalConfirm(),
                model=args.model,
                offer_tools=offer_tools,
                tool_sources=(mcp,),
            ) as conversation,
        ):
            params.check(json_mode=False, tools=bool(conversation.runner.registry.schemas()))
            await mcp.settled()  # each server is up, or failed within its timeout
            _left_out(conversation)
            if getattr(args, "speak", False):
                from voiced.speak.factory import open_speaker

                async with open_speaker(loaded) as speaker:
                    await turn.aloud(conversation, speaker)
            else:
                await turn.silent(conversation)
        return 0

    return run_with_client(loaded, work)


@dataclass(frozen=True)
class Turn:
    """The question of one ``voiced ask`` and how to answer it."""

    question: str
    new: bool
    system: str | None
    show_reasoning: bool

    async def silent(self, conversation: Conversation) -> None:
        """Answer on the terminal only."""
        sink = TerminalSink(self.show_reasoning)
        try:
            await conversation.ask(self.question, sink, new=self.new, system=self.system)
        finally:
            sink.end_line()

    async def aloud(self, conversation: Conversation, speaker: Speaker) -> None:
        """Answer on the terminal and speak the answer as it streams (``--speak``).

        What was heard is stored with the replies (each with its share when speech was cut
        short); reasoning is never spoken.
        """
        reply = speaker.reply()
        sink = SpeakingSink(self.show_reasoning, reply)
        try:
            result = await conversation.ask(self.question, sink, new=self.new, system=self.system)
        except BaseException:
            reply.cancel()
            raise
        finally:
            sink.end_line()
        spoken = await reply.finish()
        if spoken.interrupted:
            await conversation.mark_heard(spoken.spoken_text)
        elif result.reply_ids:  # heard in full: the last reply holds its words as spoken
            await conversation.mark_spoken(result.reply_ids[-1], spoken.spoken_text, False)


class McpNotes:
    """Says on stderr, once each, which MCP servers are not available and which of their tools
    are not offered, and why."""

    def __init__(self) -> None:
        self._said: set[str] = set()

    def __call__(self, state: ServerState) -> None:
        if state.phase == "failed" and state.name not in self._said:
            self._said.add(state.name)
            _warn(
                f"MCP server {state.name} is not available: {state.reason}; "
                "its tools are not offered"
            )
        for item in state.skipped:
            key = f"{state.name}\0{item.tool}"
            if key not in self._said:
                self._said.add(key)
                _warn(
                    f"MCP server {state.name}: the tool {item.tool!r} is not offered: {item.reason}"
                )


def _left_out(conversation: Conversation) -> None:
    """Warn when tools are left out of the request to stay within Groq's limits."""
    registry = conversation.runner.registry
    registry.offered()
    if registry.left_out:
        _warn(
            f"{len(registry.left_out)} tools were left out of the request, to stay within "
            f"{MAX_TOOLS} tools (Groq's limit) and {MAX_TOOL_CHARS:,} characters of tool "
            f"definitions: {', '.join(registry.left_out)}"
        )


def _warn(text: str) -> None:
    from voiced.protocol.shown import printable  # with the protocol: 20 ms not every run needs

    print(f"voiced: {printable(text)}", file=sys.stderr, flush=True)


class TerminalSink:
    """Writes the answer to stdout and, when asked, the reasoning to stderr."""

    def __init__(
        self, show_reasoning: bool, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.show_reasoning = show_reasoning
        self._out = out or sys.stdout
        self._err = err or sys.stderr
        self._at_line_start = True

    async def content(self, text: str) -> None:
        """Print words of the answer as they arrive."""
        self._out.write(text)
        self._out.flush()
        self._at_line_start = text.endswith("\n")

    async def reasoning(self, text: str) -> None:
        """Print reasoning on stderr with ``--reasoning``; drop it otherwise."""
        if self.show_reasoning:
            self._err.write(text)
            self._err.flush()

    def end_line(self) -> None:
        """End the answer with a newline if it did not end with one."""
        if not self._at_line_start:
            self._out.write("\n")
            self._out.flush()
            self._at_line_start = True


class SpeakingSink(TerminalSink):
    """Prints the answer and feeds it to the speaker as it streams."""

    def __init__(self, show_reasoning: bool, reply: SpokenReply) -> None:
        super().__init__(show_reasoning)
        self._reply = reply

    async def content(self, text: str) -> None:
        """Print the words and queue them for speech."""
        await super().content(text)
        self._reply.feed(text)


class TerminalConfirm:
    """Asks on the terminal before a side-effect tool runs; the default answer is no.

    Without a terminal on stdin nobody can answer, so it refuses (and says so on stderr).
    The answer is read with the event loop's reader, so a Ctrl-C never waits on a thread.
    The question is shown with control and bidi characters escaped, after the host of each
    URL it concerns on a line of its own, so no argument can make it read otherwise.
    """

    def __init__(self, stdin: TextIO | None = None, err: TextIO | None = None) -> None:
        self._stdin = stdin or sys.stdin
        self._err = err or sys.stderr

    async def __call__(self, request: ConfirmRequest) -> bool:
        """Put the question and wait for a line; only y or yes means yes."""
        from voiced.protocol.shown import printable, url_hosts

        question = printable(request.question)
        if self._stdin is None or not self._stdin.isatty():
            self._err.write(
                f"voiced: not done, as stdin is not a terminal to confirm on: {question}\n"
            )
            self._err.flush()
            return False
        hosts = "".join(f"voiced: host: {host}\n" for host in url_hosts(request.arguments))
        self._err.write(f"\n{hosts}voiced: {question} [y/N] ")
        self._err.flush()
        answer = await _read_line(self._stdin.fileno())
        return answer.strip().lower() in ("y", "yes")


async def _read_line(fd: int) -> str:
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()
    chunks: list[bytes] = []

    def readable() -> None:
        data = os.read(fd, 1024)
        chunks.append(data)
        if not data or b"\n" in data:
            loop.remove_reader(fd)
            if not line.done():
                line.set_result(b"".join(chunks).decode("utf-8", "replace"))

    loop.add_reader(fd, readable)
    try:
        return await line
    finally:
        loop.remove_reader(fd)


async def _ask_json(
    client: GroqClient, args: argparse.Namespace, loaded: Settings, question: str
) -> int:
    """JSON mode does not stream and cannot use tools: send once and print the object.

    Reasoning (parsed, or inline in think tags from a server that sends it anyway) goes to
    stderr with ``--reasoning``, never to stdout: stdout holds the JSON object alone.
    """
    system = args.system if args.system is not None else JSON_SYSTEM
    chat = loaded.chat
    request = ChatRequest(
        model=args.model or chat.model,
        messages=(Message.system(system), Message.user(question)),
        temperature=chat.temperature,
        top_p=chat.top_p,
        seed=chat.seed,
        stop=chat.stop or None,  # always None here: AskParams.check refused it with JSON mode
        max_completion_tokens=chat.max_completion_tokens,
        reasoning_effort=chat.reasoning_effort,
        reasoning_format=chat.reasoning_format,
        response_format={"type": "json_object"},
    )
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
    splitter = ThinkSplitter()
    parts = [splitter.feed(reply.content), splitter.close()]
    if getattr(args, "reasoning", False):
        reasoning = reply.reasoning + "".join(thought for _, thought in parts)
        if reasoning:
            print(reasoning, file=sys.stderr)
    print("".join(said for said, _ in parts))
    return 0
