"""Who is at the other end of the control socket: only this user's processes are trusted.

Both ends check. A client connects only through a directory and a socket file that are this
user's own and not symbolic links (:func:`check_socket_path`), then asks the kernel who the
server is (``SO_PEERCRED``); the daemon asks the same of every client and drops any of
another user (:func:`peer_uid`).
"""

from __future__ import annotations

import os
import socket
import stat
import struct
from pathlib import Path
from typing import Any

from voiced.errors import DaemonNotRunningError, UnsafeSocketError

START_HINT = "start it with `voiced daemon` or `systemctl --user start voiced`"
_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


def check_socket_path(path: Path) -> None:
    """Check, before connecting, that ``path`` and its directory are this user's own.

    Raises:
        DaemonNotRunningError: The directory or the socket does not exist.
        UnsafeSocketError: Either is a symbolic link, or belongs to another user.
    """
    directory = path.parent
    for what, where in (("socket directory", directory), ("control socket", path)):
        try:
            info = where.lstat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise DaemonNotRunningError(
                f"no voiced daemon is listening on {path}", START_HINT
            ) from exc
        except OSError as exc:
            raise DaemonNotRunningError(
                f"cannot reach the control socket {path}: {exc.strerror}"
            ) from exc
        if stat.S_ISLNK(info.st_mode):
            raise UnsafeSocketError(
                f"the {what} {where} is a symbolic link; refusing to connect through it",
                "remove the link: voiced's socket and its directory are never links",
            )
        if info.st_uid != os.getuid():
            raise UnsafeSocketError(
                f"the {what} {where} belongs to another user (uid {info.st_uid}); "
                "refusing to connect",
                "another user may be impersonating voiced: remove it, or set "
                "[daemon] socket to a path in a directory of yours",
            )


def peer_uid(sock: Any) -> int | None:
    """The uid of the process at the other end of a Unix socket, from ``SO_PEERCRED``.

    For a client, that is the process that called ``listen()``; for the daemon, the one that
    called ``connect()``.

    Args:
        sock: A connected AF_UNIX socket (or asyncio's wrapper of one).

    Returns:
        The uid, or None where the system cannot tell (no ``SO_PEERCRED``).
    """
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None or sock is None:
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, option, _UCRED.size)
    _pid, uid, _gid = _UCRED.unpack(raw)
    return int(uid)


def check_server(sock: Any, path: Path) -> None:
    """Refuse a server run by another user.

    Raises:
        UnsafeSocketError: The process listening on ``path`` is another user's.
    """
    uid = peer_uid(sock)
    if uid is not None and uid != os.getuid():
        raise UnsafeSocketError(
            f"the control socket {path} is served by another user's process (uid {uid}); "
            "refusing to talk to it",
            "another user may be impersonating voiced: stop that process and remove the socket",
        )
