"""``voiced daemon``: the assistant headless (for systemd), or replaying a file as the mic."""

from __future__ import annotations

import argparse
import contextlib
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from voiced.errors import InputError

if TYPE_CHECKING:
    from voiced.audio.room import RoomOptions


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
    room = _room(args)
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
        ReplayFiles(args.input, args.output, args.events, args.skip_idle, room)
        if args.input
        else None
    )
    with contextlib.ExitStack() as stack:
        socket = args.socket
        if socket is None and replay is not None:
            # A private socket for the replay, removed with its directory when it is over.
            private = stack.enter_context(tempfile.TemporaryDirectory(prefix="voiced-replay-"))
            socket = Path(private) / "control.sock"
        daemon = Daemon(loaded, socket=socket, engine=engine_factory(loaded, replay))
        return asyncio.run(daemon.run())


def _room(args: argparse.Namespace) -> RoomOptions | None:
    """The simulated room of ``--echo-gain``/``--echo-delay-ms``/``--echo-ir``, or None.

    Raises:
        InputError: A room option without --input or --echo-gain, or a value out of range.
    """
    from voiced.audio.room import RoomOptions

    gain, delay, ir = (getattr(args, n, None) for n in ("echo_gain", "echo_delay_ms", "echo_ir"))
    if gain is None:
        if delay is not None or ir is not None:
            raise InputError(
                "--echo-delay-ms and --echo-ir need --echo-gain", "add --echo-gain 0.5"
            )
        return None
    if not args.input:
        raise InputError("--echo-gain needs --input", "give the file to replay")
    room = RoomOptions(gain, 80.0 if delay is None else delay, ir)
    if ir is not None:
        from voiced.audio.room import load_impulse_response

        load_impulse_response(ir)  # fails before starting when it is not a usable WAV
    return room


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
