"""Class 10, local state: exports are private and atomic, a replay leaves no temp directory."""

from __future__ import annotations

import json
import os
import stat
import wave
from pathlib import Path

import pytest

from tests.hostile.cli import Cli
from voiced.converse.history import HistoryStore

pytestmark = pytest.mark.subprocess


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path / "home")
    cli.data.mkdir(parents=True)
    store = HistoryStore(cli.data / "history.sqlite3")
    turn, _ = store.start_turn(store.conversation_for(600), "what is my bank pin")
    store.add_message(turn, "assistant", content="I do not know it.")
    store.finish_turn(turn, "done")
    store.close()
    return cli


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_an_export_is_written_private_and_replaces_the_file_whole(
    cli: Cli, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "shared" / f"export.{fmt}"
    out.parent.mkdir()
    out.write_text("an older export\n")
    out.chmod(0o644)
    before = out.stat().st_ino
    old = os.umask(0o022)
    try:
        done = cli("history", "--export", fmt, "-o", out)
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.stat().st_ino != before  # a new file renamed over the old, not rewritten in place
    assert "bank pin" in out.read_text()
    if fmt == "json":
        assert json.loads(out.read_text())[0]["turns"]
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no temporary left


def test_an_export_that_cannot_be_written_leaves_the_old_file_and_no_temporary(
    cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "export.json"
    out.mkdir()  # a directory where the file should go: the rename fails
    done = cli("history", "--export", "json", "-o", out)
    assert done.returncode == 2
    assert done.stderr.decode().startswith(f"voiced: {out}: cannot write")
    assert out.is_dir() and list(out.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export")] == []


def test_a_replay_leaves_no_temporary_directory_behind(cli: Cli, tmp_path: Path) -> None:
    speech = tmp_path / "quiet.wav"
    with wave.open(str(speech), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x01\x00" * 16000)
    for _ in range(2):
        done = cli("daemon", "--input", speech)
        assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in cli.tmp.iterdir()) == []  # TMPDIR of both runs
