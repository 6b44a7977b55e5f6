"""``voiced status``, ``voiced ptt start|stop|toggle``, ``voiced mute``, ``voiced unmute``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import orjson

from voiced.errors import VoicedError
from voiced.protocol import (
    Command,
    ControlClient,
    McpServerLine,
    Mute,
    PushToTalk,
    Status,
    Unmute,
    socket_path,
)


def run(args: argparse.Namespace) -> int:
    """Send one command to the running daemon and report its answer.

    ``args.control`` names the command ("status", "ptt", "mute" or "unmute"); ``args.action``
    is ptt's start/stop/toggle, ``args.json`` asks status for JSON.

    Returns:
        0 when the daemon carried it out.

    Raises:
        DaemonNotRunningError: No daemon listens on the socket.
        VoicedError: The daemon refused the command.
    """
    return asyncio.run(_talk(configured_socket(), args))


def configured_socket() -> Path:
    """The control socket from the settings; the default one when they cannot be read (a
    broken config must not stop a push-to-talk hotkey: the daemon still runs the old one)."""
    from voiced.config import load_settings
    from voiced.errors import ConfigError

    try:
        return socket_path(load_settings().daemon.socket)
    except ConfigError as exc:
        print(f"voiced: {exc} (using the default socket)", file=sys.stderr)
        return socket_path()


async def _talk(path: Path, args: argparse.Namespace) -> int:
    async with await ControlClient.connect(path) as client:
        if args.control == "status":
            status = await client.status()
            print(_json(status) if getattr(args, "json", False) else describe(status))
            return 0
        command: Command
        if args.control == "ptt":
            command = PushToTalk(action=args.action)
        else:
            command = Mute() if args.control == "mute" else Unmute()
        reply = await client.request(command)
        if not reply.ack.ok:
            raise VoicedError(f"the daemon refused {command.type}: {reply.ack.message}")
        status = await client.status()
        print(f"{status.state} · {_mode(status)}")
        return 0


def describe(status: Status) -> str:
    """Return the status as a few human-readable lines."""
    wake = f"wake phrase {status.wake_phrase!r}" if status.wake_phrase else "no wake phrase"
    lines = [
        f"voiced {status.version} (pid {status.pid}), up {status.uptime_s:.0f} s",
        f"state:   {status.state}",
        f"mode:    {_mode(status)}",
        f"models:  chat {status.chat_model} · speech to text {status.stt_model}",
        f"options: barge-in {'on' if status.barge_in else 'off'}, "
        f"speculative turns {'on' if status.speculative else 'off'}, {wake}",
        f"clients: {status.clients}",
        f"cost:    ${status.session_cost_usd:.4f} this session",
    ]
    for server in status.mcp:
        lines.append(f"mcp:     {server.name}: {_server(server)}")
    return "\n".join(lines)


def _server(server: McpServerLine) -> str:
    if server.state == "ready":
        skipped = f", {server.skipped} skipped (`voiced tools` says why)" if server.skipped else ""
        return f"ready, {server.tools} tools{skipped}"
    if server.state == "failed":
        return f"not available: {server.reason} (its tools are not offered; retrying)"
    return server.state


def _mode(status: Status) -> str:
    mode = status.mode.replace("_", "-")
    if status.mode == "wake" and status.wake_word:
        mode = f"wake word {status.wake_word!r}"
    return f"{mode}, push-to-talk held" if status.ptt else mode


def _json(status: Status) -> str:
    return orjson.dumps(status.to_dict(), option=orjson.OPT_INDENT_2).decode()
