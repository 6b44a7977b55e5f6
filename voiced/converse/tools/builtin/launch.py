"""Opening a URL (xdg-open) or a desktop application: side effects, so both need confirmation."""

from __future__ import annotations

import asyncio
import configparser
import os
import shlex
import shutil
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from voiced.converse.tools.registry import Tool, ToolError, tool

FIELD_CODES = {"%f", "%F", "%u", "%U", "%d", "%D", "%n", "%N", "%i", "%c", "%k", "%v", "%m"}


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


async def start_detached(command: Sequence[str]) -> None:
    """Start a program in its own session without waiting for it to end.

    A short-lived ``sh`` puts the program in the background and exits at once, so the
    program is adopted by init and voiced leaves no zombie behind, whether it lives on or not.

    Raises:
        ToolError: The program is not installed or cannot be started.
    """
    if shutil.which(command[0]) is None:
        raise ToolError(f"{command[0]} is not installed")
    try:
        shell = await asyncio.create_subprocess_exec(
            "sh",
            "-c",
            '"$@" </dev/null >/dev/null 2>&1 &',
            "voiced-launch",
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        await shell.wait()
    except OSError as exc:
        raise ToolError(f"cannot start {command[0]}: {exc.strerror}") from exc


def launch_tools(opener: str = "xdg-open", dirs: Sequence[Path] | None = None) -> list[Tool]:
    """Return open_url and open_application (both confirmed by the user before they run).

    Args:
        opener: The program given the URL (``[tools] open_command``).
        dirs: Where desktop entries are looked for; defaults to the XDG directories.
    """
    search = list(dirs) if dirs is not None else application_dirs()

    @tool(confirm=True, describe=lambda args: f"Open {args['url']}?")
    async def open_url(url: str) -> str:
        """Open a web page (http or https URL) in the user's browser.

        Args:
            url: The full URL, starting with https:// or http://.
        """
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ToolError("only http and https URLs can be opened")
        await start_detached([*shlex.split(opener), url.strip()])
        return f"Opened {url.strip()}."

    @tool(confirm=True, describe=lambda args: f"Start the application {args['name']}?")
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
