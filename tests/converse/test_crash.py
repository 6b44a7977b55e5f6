"""History survives the process being killed mid-turn, and the next run picks it up."""

from __future__ import annotations

import argparse
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.groqsim import ChatReply, GroqSim
from tests.procs import run_voiced, spawn_voiced, user_env
from voiced.commands import history as history_command

pytestmark = pytest.mark.subprocess

STORY = " ".join(f"word{n}" for n in range(200)) + "."


def environment(sim: GroqSim, home: Path) -> dict[str, str]:
    return user_env(
        home,
        XDG_DATA_HOME=str(home / "share"),
        GROQ_API_KEY=TEST_KEY,
        GROQ_BASE_URL=sim.base_url,
    )


def stored_reply(db: Path) -> tuple[str, str, str] | None:
    """(turn status, reply status, reply content) of the first assistant message, if any."""
    if not db.exists():
        return None
    con = sqlite3.connect(db, timeout=5)
    try:
        row = con.execute(
            "SELECT t.status, m.status, m.content FROM messages m JOIN turns t ON t.id = m.turn_id "
            "WHERE m.role = 'assistant' ORDER BY m.id LIMIT 1"
        ).fetchone()
    except sqlite3.OperationalError:  # the other process is still creating the tables
        return None
    finally:
        con.close()
    return None if row is None else (row[0], row[1], row[2])


def test_a_killed_turn_is_kept_and_the_next_run_continues_it(
    groqsim: GroqSim,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    groqsim.api_key = TEST_KEY
    env = environment(groqsim, tmp_path)
    db = tmp_path / "share" / "voiced" / "history.sqlite3"
    groqsim.enqueue("chat", ChatReply(content=STORY, tokens_per_s=40))
    process = spawn_voiced(
        "ask",
        "tell me a long story",
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        seen: tuple[str, str, str] | None = None
        while time.monotonic() < deadline:
            seen = stored_reply(db)
            if seen is not None and len(seen[2].split()) >= 10:
                break
            time.sleep(0.05)
        assert seen is not None, "no reply text reached the database"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        printed = process.stdout.read().decode() if process.stdout else ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    assert process.returncode == -signal.SIGKILL

    after = stored_reply(db)
    assert after is not None
    turn_status, reply_status, content = after
    assert (turn_status, reply_status) == ("open", "streaming")
    assert STORY.startswith(content) and len(content) >= len(seen[2])
    assert content != STORY  # it was killed before the end
    assert printed.startswith(content.split()[0])

    groqsim.enqueue("chat", ChatReply(content="Where was I?"))
    result = run_voiced("ask", "go on", env=env, cwd=tmp_path, secret=TEST_KEY)
    assert result.returncode == 0 and result.stdout == "Where was I?\n"
    sent = groqsim.requests_for("chat")[1].json["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "tell me a long story"
    assert sent[2]["content"] == content
    assert stored_reply(db) == ("interrupted", "interrupted", content)

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    args = argparse.Namespace(
        search=None,
        show="1",
        export=None,
        conversation=None,
        limit=20,
        reasoning=False,
        output=None,
    )
    assert history_command.run(args) == 0
    shown = capsys.readouterr().out
    assert "tell me a long story" in shown and content in shown
    assert "_Reply interrupted." in shown
    assert "_Turn interrupted: the voiced process stopped during this turn._" in shown
    assert "Where was I?" in shown
