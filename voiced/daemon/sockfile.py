"""Making the control socket safely: a private directory, a 0600 socket, no live one clobbered."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

from voiced.errors import DaemonError, DaemonRunningError, UnsafeSocketError
from voiced.protocol.paths import OWN_DIRECTORY


def prepare_directory(path: Path) -> None:
    """Create the socket's directory with mode 0700, or check the one that exists.

    It must be a real directory (not a symbolic link) of this user's. A directory named
    ``voiced`` is voiced's own (the default ones are) and is tightened to 0700; any other (a
    configured path) is left as it is, since the socket's own 0600 mode protects it.

    Raises:
        UnsafeSocketError: The directory is a symbolic link or belongs to another user.
        DaemonError: The directory cannot be created.
    """
    directory = path.parent
    hint = "set [daemon] socket to a path in a directory you own"
    try:
        if not directory.is_symlink():
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.lstat()
    except OSError as exc:
        raise DaemonError(
            f"cannot create the socket directory {directory}: {exc.strerror}", hint
        ) from exc
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeSocketError(
            f"the socket directory {directory} is a symbolic link; refusing to use it",
            f"remove the link (voiced creates the directory itself), or {hint}",
        )
    if info.st_uid != os.getuid():
        raise UnsafeSocketError(
            f"the socket directory {directory} belongs to another user (uid {info.st_uid})",
            hint,
        )
    if directory.name == OWN_DIRECTORY and stat.S_IMODE(info.st_mode) != 0o700:
        directory.chmod(0o700)


def clear_stale(path: Path) -> None:
    """Remove a socket left behind by a daemon that died; refuse to take a live one.

    Raises:
        DaemonRunningError: A daemon answers on ``path``.
        DaemonError: ``path`` exists and is not a socket.
    """
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise DaemonError(
            f"{path} exists and is not a socket", "remove it or set [daemon] socket elsewhere"
        )
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(str(path))
    except TimeoutError:
        pass  # alive but busy: its backlog is full
    except OSError:
        path.unlink(missing_ok=True)
        return
    finally:
        probe.close()
    raise DaemonRunningError(
        f"a voiced daemon is already running on {path}",
        "use it (`voiced status`), or stop it first (`systemctl --user stop voiced`)",
    )


def bind_private(path: Path) -> socket.socket:
    """Bind a listening Unix socket at ``path`` created with mode 0600.

    The umask is narrowed around ``bind`` so the socket never exists with a wider mode.

    Raises:
        DaemonError: The socket cannot be bound.
    """
    prepare_directory(path)
    clear_stale(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    except OSError as exc:
        sock.close()
        raise DaemonError(f"cannot create the control socket {path}: {exc.strerror}") from exc
    finally:
        os.umask(old)
    path.chmod(0o600)
    sock.listen(16)
    sock.setblocking(False)
    return sock
