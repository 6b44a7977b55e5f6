"""Reading a Textual screen: the text of an SVG screenshot, line by line, and its snapshot."""

from __future__ import annotations

import html
import os
import re
import tempfile
from pathlib import Path

from textual.app import App

_TEXT = re.compile(
    r'<text[^>]*x="([\d.]+)"[^>]*clip-path="url\(#terminal-\d+-line-(\d+)\)"[^>]*>(.*?)</text>',
    re.S,
)
_UNIQUE_ID = re.compile(r"\bterminal-\d+-")
_CELL_WIDTH = 12.2
"""Width of one cell in Rich's SVG export (0.61 of its 20 px font)."""

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE_ENV = "VOICED_UPDATE_SNAPSHOTS"
"""Set to 1 to write the snapshots anew (then review the SVGs and commit them)."""


def screen_lines(app: App[object]) -> list[str]:
    """The text of each screen line as the user sees it, cells placed by their position."""
    rows: dict[int, list[str]] = {}
    for match in _TEXT.finditer(app.export_screenshot()):
        column = round(float(match.group(1)) / _CELL_WIDTH)
        text = html.unescape(match.group(3)).replace("\xa0", " ").replace("\n", "")
        row = rows.setdefault(int(match.group(2)), [])
        row.extend(" " * (column - len(row)))
        row[column : column + len(text)] = text
    return ["".join(rows.get(n, [])).rstrip() for n in range(app.size.height)]


def screen_text(app: App[object]) -> str:
    """The whole screen as text, one line per row."""
    return "\n".join(screen_lines(app))


def normalise_svg(svg: str) -> str:
    """Drop what changes from run to run: Rich's random id in class and clip-path names."""
    return _UNIQUE_ID.sub("terminal-", svg)


def assert_snapshot(app: App[object], name: str) -> None:
    """Compare the screen with ``snapshots/<name>.svg``; write it when updating or missing.

    A missing snapshot fails the test after writing it, so a new one is always reviewed.
    """
    actual = normalise_svg(app.export_screenshot(title="voiced"))
    path = SNAPSHOTS / f"{name}.svg"
    if os.environ.get(UPDATE_ENV) == "1" or not path.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        existed = path.exists()
        path.write_text(actual, encoding="utf-8")
        if not existed and os.environ.get(UPDATE_ENV) != "1":
            raise AssertionError(f"wrote the new snapshot {path}: review it and run again")
        return
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        failed = Path(tempfile.gettempdir()) / "voiced-snapshots" / f"{name}.actual.svg"
        failed.parent.mkdir(exist_ok=True)
        failed.write_text(actual, encoding="utf-8")
        raise AssertionError(
            f"the screen differs from {path.name}; see {failed} "
            f"(rerun with {UPDATE_ENV}=1 if the change is intended)"
        )
