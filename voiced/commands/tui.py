"""``voiced`` and ``voiced tui``: the terminal interface, attached to the daemon or hosting one."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from voiced.config import config_dir
from voiced.credentials import Secret
from voiced.errors import DaemonNotRunningError, InputError


def run(args: argparse.Namespace) -> int:
    """Run the TUI until the user quits.

    ``args.attach_only`` (set for ``voiced tui``) only attaches, waiting for a daemon if none
    runs; otherwise a daemon is started inside this process when none answers, and it stops
    when the TUI quits.

    Returns:
        0 after the user quit.

    Raises:
        InputError: Standard input or output is not a terminal.
        VoicedError: Bad settings, or a daemon of another protocol version on the socket.
    """
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InputError(
            "the terminal interface needs a terminal, and this is not one",
            "run it in a terminal; for no interface use `voiced daemon` and `voiced status`",
        )
    from voiced.commands.common import settings
    from voiced.commands.embedded import EmbeddedDaemon
    from voiced.commands.keycheck import server_check
    from voiced.protocol.paths import socket_path
    from voiced.tui.app import VoicedApp

    loaded = settings()
    path = getattr(args, "socket", None) or socket_path(loaded.daemon.socket)
    attach = getattr(args, "attach_only", False) or asyncio.run(daemon_answers(path))
    host = None if attach else EmbeddedDaemon(path)

    async def key_saved(key: Secret) -> None:
        if host is not None and not host.started:
            host.start(await asyncio.to_thread(settings))

    app = VoicedApp(
        path,
        credentials=config_dir() / "credentials",
        need_key=loaded.api_key is None,
        key_check=server_check(loaded),
        on_key_saved=key_saved if host is not None else None,
        host_ready=host.wait_ready if host is not None else None,
    )
    if host is not None:
        host.on_error = app.host_failed
        if loaded.api_key is not None:
            host.start(loaded)
    try:
        app.run()
    finally:
        if host is not None:
            host.stop()
    return app.return_code or 0


async def daemon_answers(path: Path) -> bool:
    """Whether a daemon greets on ``path``.

    Raises:
        ProtocolError: Something answers, but not in this voiced's protocol.
    """
    from voiced.protocol.client import ControlClient

    try:
        client = await ControlClient.connect(path, wait_s=2.0)
    except DaemonNotRunningError:
        return False
    await client.aclose()
    return True
