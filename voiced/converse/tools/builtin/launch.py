"""Opening a URL (xdg-open) or a desktop application: side effects, so both need confirmation."""

from __future__ import annotations

import asyncio
import configparser
import logging
import os
import shlex
import shutil
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from voiced.converse.tools.registry import Tool, ToolError, tool

FIELD_CODES = {"%f", "%F", "%u", "%U", "%d", "%D", "%n", "%N", "%i", "%c", "%k", "%v", "%m"}
UNSHOWN = frozenset({"Cc", "Cf", "Zl", "Zp", "Zs"})
"""Unicode categories refused in a URL (the plain space aside): control, format (bidi
overrides, zero-width), line and paragraph separators, odd spaces."""
KEPT = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ",
        "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS",
        "DESKTOP_SESSION", "XMODIFIERS", "BROWSER", "SSH_AUTH_SOCK", "PULSE_SERVER",
    }
)  # fmt: skip
"""Variables a launched desktop program keeps."""
KEPT_PREFIXES = ("XDG_", "LC_", "GTK_", "GDK_", "QT_", "KDE_", "MOZ_", "SDL_")
"""Prefixes of the variables a launched desktop program keeps (locale, XDG, toolkits)."""
SYSTEMD_RUN_WAIT_S = 15.0
"""How long systemd-run may take to have the user manager start a program."""
log = logging.getLogger(__name__)


def application_dirs(env: dict[str, str] | None = None) -> list[Path]:
    """The XDG ``applications`` directories, most specific first."""
    env = dict(os.environ) if env is None else env
    home = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local/share")
    system = env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    return [Path(d) / "applications" for d in [home, *system.split(":")] if d]


def find_application(name: str, dirs: Sequence[Path]) -> tuple[str, list[str]]:
    """Find a desktop entry by its file name or its Name=; return (name, command line).

    Raises:
        ToolError: No visible application matches.
    """
    wanted = name.strip().lower().removesuffix(".desktop")
    for directory in dirs:
        for path in sorted(directory.glob("*.desktop")) if directory.is_dir() else ():
            entry = configparser.ConfigParser(interpolation=None, strict=False)
            try:
                entry.read(path, encoding="utf-8")
                section = entry["Desktop Entry"]
            except (configparser.Error, KeyError, UnicodeDecodeError):
                continue
            if section.get("NoDisplay", "").lower() == "true" or "Exec" not in section:
                continue
            title = section.get("Name", path.stem)
            if wanted in (path.stem.lower(), title.lower()):
                return title, exec_command(section["Exec"])
    raise ToolError(f"no installed application is called {name!r}")


def exec_command(line: str) -> list[str]:
    """Split a desktop entry's Exec= line, dropping field codes such as %U."""
    return [arg.replace("%%", "%") for arg in shlex.split(line) if arg not in FIELD_CODES]


def checked_url(url: str) -> str:
    """The URL ``open_url`` may open and show in its question, or a ToolError saying why not.

    Only http and https with a host. Refused, as they can make a confirmation prompt show
    another site than the one opened: control characters (terminal escapes), invisible
    formatting characters (bidi overrides, zero-width ones), line breaks and odd spaces, and
    a user name or password before the host (``https://bank.example@attacker.example``).

    Raises:
        ToolError: The URL is refused.
    """
    url = url.strip()
    bad = next((c for c in url if c != " " and unicodedata.category(c) in UNSHOWN), None)
    if bad is not None:
        raise ToolError(
            f"the URL holds the invisible or control character U+{ord(bad):04X}, which could "
            "disguise it; it was not opened"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ToolError("only http and https URLs can be opened")
    if "@" in parts.netloc:
        raise ToolError(
            "the URL has a user name or password before its host (user:pass@), which can "
            "disguise the site; it was not opened"
        )
    try:
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError as exc:
        raise ToolError(f"the URL's host or port is not valid ({exc})") from None
    if not parts.hostname or " " in parts.netloc:
        raise ToolError("the URL has no valid host")
    return url


def clean_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The environment a launched program gets: what a desktop program needs, no secrets.

    Kept: the variables in :data:`KEPT` and those starting with :data:`KEPT_PREFIXES`
    (display, session bus, locale, XDG directories, toolkit settings). Everything else is
    dropped, ``GROQ_API_KEY`` and any ``VOICED_*`` included.
    """
    return {
        name: value
        for name, value in env.items()
        if (name in KEPT or name.startswith(KEPT_PREFIXES))
        and not name.startswith(("GROQ_", "VOICED_"))
    }


async def start_detached(command: Sequence[str], env: Mapping[str, str] | None = None) -> None:
    """Start a program outside voiced, with a clean environment, without waiting for it.

    Under systemd (``INVOCATION_ID`` set, as in the service) the user manager starts it as a
    transient unit (``systemd-run --user``), so it runs outside the service's sandbox and
    lives on when voiced stops. Otherwise, or when that fails, a short-lived ``sh`` starts it
    in its own session and exits at once, so the program is adopted by init and voiced
    leaves no zombie behind, whether it lives on or not.

    Args:
        command: The program and its arguments.
        env: voiced's environment; defaults to ``os.environ``. The program gets
            :func:`clean_environment` of it.

    Raises:
        ToolError: The program is not installed or cannot be started.
    """
    env = os.environ if env is None else env
    clean = clean_environment(env)
    program = shutil.which(command[0], path=clean.get("PATH"))
    if program is None:
        raise ToolError(f"{command[0]} is not installed")
    argv = [program, *command[1:]]
    runner = shutil.which("systemd-run", path=clean.get("PATH"))
    if env.get("INVOCATION_ID") and runner is not None:
        if await _through_user_manager(runner, argv, clean):
            return
    await _spawn_in_new_session(argv, clean)


def session_command(runner: str, argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """The ``systemd-run`` command line that has the user manager start ``argv``.

    A transient service, not a ``--scope``: a scope keeps the program in voiced's mount
    namespace (the service's read-only file system and private /tmp). ``--setenv=NAME``
    passes each variable of the clean environment on by name (its value is systemd-run's).
    """
    names = [f"--setenv={name}" for name in sorted(env)]
    return [runner, "--user", "--collect", "--quiet", *names, "--", *argv]


async def _through_user_manager(runner: str, argv: list[str], env: dict[str, str]) -> bool:
    """Start ``argv`` with systemd-run; False (logged) when it could not."""
    try:
        done = await asyncio.create_subprocess_exec(
            *session_command(runner, argv, env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        log.warning("cannot run systemd-run (%s); starting %s from voiced", exc, argv[0])
        return False
    try:
        async with asyncio.timeout(SYSTEMD_RUN_WAIT_S):
            _, said = await done.communicate()
    except TimeoutError:
        done.kill()
        await done.wait()
        said = b"it did not answer in time"
    if done.returncode == 0:
        return True
    why = said.decode("utf-8", "replace").strip()[-300:] or f"exit status {done.returncode}"
    log.warning("systemd-run --user failed (%s); starting %s from voiced", why, argv[0])
    return False


async def _spawn_in_new_session(argv: list[str], env: dict[str, str]) -> None:
    try:
        shell = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            '"$@" </dev/null >/dev/null 2>&1 &',
            "voiced-launch",
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        await shell.wait()
    except OSError as exc:
        raise ToolError(f"cannot start {argv[0]}: {exc.strerror}") from exc


def launch_tools(opener: str = "xdg-open", dirs: Sequence[Path] | None = None) -> list[Tool]:
    """Return open_url and open_application (both confirmed by the user before they run).

    Args:
        opener: The program given the URL (``[tools] open_command``).
        dirs: Where desktop entries are looked for; defaults to the XDG directories.
    """
    search = list(dirs) if dirs is not None else application_dirs()

    @tool(
        confirm=True,
        describe=lambda args: f"Open {checked_url(args['url'])}?",
        confirm_verbs=("open",),
    )
    async def open_url(url: str) -> str:
        """Open a web page (http or https URL) in the user's browser.

        Args:
            url: The full URL, starting with https:// or http://.
        """
        url = checked_url(url)
        await start_detached([*shlex.split(opener), url])
        return f"Opened {url}."

    @tool(
        confirm=True,
        describe=lambda args: f"Start the application {args['name']}?",
        confirm_verbs=("open", "start", "launch"),
    )
    async def open_application(name: str) -> str:
        """Start a desktop application by its name, such as "Firefox" or "Text Editor".

        Args:
            name: The application's name as shown in the menu.
        """
        title, command = find_application(name, search)
        if not command:
            raise ToolError(f"{title} has no command to run")
        await start_detached(command)
        return f"Started {title}."

    return [open_url, open_application]
