"""``voiced daemon``: the assistant headless (for systemd), or replaying a file as the mic."""

from __future__ import annotations

import argparse
import contextlib
import logging
import tempfile
from pathlib import Path

from voiced.errors import InputError


def run(args: argparse.Namespace) -> int:
    """Run the daemon until SIGTERM, or until a replayed input is over.

    Returns:
        0 after a clean stop, 1 when the pipeline failed.

    Raises:
        VoicedError: Bad settings or options, no key, a daemon already running, no devices.
    """
    import asyncio
    import faulthandler

    from voiced.commands.common import settings
    from voiced.daemon.app import Daemon
    from voiced.pipeline.assemble import ReplayFiles, engine_factory

    if (args.output or args.events or args.skip_idle) and not args.input:
        raise InputError(
            "--output, --events and --skip-idle need --input", "give the file to replay"
        )
    _check_paths(args)
    faulthandler.enable()  # a crash in a C library leaves its Python stack in the journal
    if not logging.getLogger("voiced").handlers:
        from voiced.logs import setup_logging

        setup_logging(verbose=bool(getattr(args, "verbose", False)))
    # pyttsx3 logs through the root logger, which makes logging add a root handler: keep
    # voiced's records from being printed twice.
    logging.getLogger("voiced").propagate = False
    loaded = settings()
    replay = (
        ReplayFiles(args.input, args.output, args.events, args.skip_idle) if args.input else None
    )
    with contextlib.ExitStack() as stack:
        socket = args.socket
        if socket is None and replay is not None:
            # A private socket for the replay, removed with its directory when it is over.
            private = stack.enter_context(tempfile.TemporaryDirectory(prefix="voiced-replay-"))
            socket = Path(private) / "control.sock"
        daemon = Daemon(loaded, socket=socket, engine=engine_factory(loaded, replay))
        return asyncio.run(daemon.run())


def _check_paths(args: argparse.Namespace) -> None:
    """Fail before starting when the input cannot be read or an output cannot be written."""
    from voiced.audio.filesource import check_decodable

    if args.input is not None:
        check_decodable(args.input)
    for option in ("output", "events"):
        path: Path | None = getattr(args, option)
        if path is not None and not path.parent.is_dir():
            raise InputError(
                f"--{option} {path}: the directory {path.parent} does not exist",
                "create it, or write the file somewhere else",
            )
