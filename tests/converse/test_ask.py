"""`voiced ask` runs the tool loop: real processes, a real terminal for confirmations."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.converse.test_crash import environment
from tests.groqsim import ChatReply, GroqSim, ToolCall
from tests.procs import run_voiced, spawn_voiced

pytestmark = pytest.mark.subprocess

BUILTIN = {
    "current_time",
    "set_timer",
    "set_reminder",
    "list_timers",
    "cancel_timer",
    "calculate",
    "system_status",
    "add_note",
    "read_notes",
    "search_notes",
    "open_url",
    "open_application",
    "weather",
}


class Ask:
    """Runs `python -m voiced ask …` with a private HOME and no terminal on stdin."""

    def __init__(self, sim: GroqSim, home: Path) -> None:
        sim.api_key = TEST_KEY
        self.sim = sim
        self.home = home
        self.env = environment(sim, home)
        (home / ".config" / "voiced").mkdir(parents=True)

    def config(self, text: str) -> None:
        (self.home / ".config" / "voiced" / "config.toml").write_text(text)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_voiced("ask", *args, env=self.env, cwd=self.home)


@pytest.fixture
def ask(groqsim: GroqSim, tmp_path: Path) -> Ask:
    return Ask(groqsim, tmp_path)


def recorder(tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "opened.txt"
    script = tmp_path / "opener.sh"
    script.write_text(f'#!/bin/sh\necho "$@" > {out}\n')
    script.chmod(0o755)
    return script, out


def test_ask_runs_the_tools_and_prints_only_the_answer(ask: Ask) -> None:
    ask.sim.enqueue(
        "chat",
        ChatReply(tool_calls=[ToolCall("calculate", {"expression": "17 * 23"}, id="c1")]),
        ChatReply(content="It is 391."),
    )
    result = ask("what is 17 times 23?")
    assert result.returncode == 0 and result.stdout == "It is 391.\n"
    first, second = (r.json for r in ask.sim.requests_for("chat"))
    assert {t["function"]["name"] for t in first["tools"]} == BUILTIN
    assert first["tool_choice"] == "auto"
    assert second["messages"][-1] == {
        "role": "tool",
        "content": "17 * 23 = 391",
        "tool_call_id": "c1",
    }


def test_config_chooses_the_tools_offered(ask: Ask) -> None:
    ask.config('[tools]\nenabled = ["calculate", "weather", "notes"]\ndisabled = ["weather"]\n')
    result = ask("hi")
    assert result.returncode == 0
    assert "no such tool is installed" in result.stderr and "'notes'" in result.stderr
    (sent,) = (r.json for r in ask.sim.requests_for("chat"))
    assert [t["function"]["name"] for t in sent["tools"]] == ["calculate"]


def test_reasoning_goes_to_stderr_only_when_asked(ask: Ask) -> None:
    reply = "<think>Colours are easy.</think>Blue."
    ask.sim.enqueue("chat", ChatReply(content=reply), ChatReply(content=reply))
    quiet = ask("a colour?")
    assert quiet.stdout == "Blue.\n" and "Colours" not in quiet.stderr
    shown = ask("--reasoning", "again?")
    assert shown.stdout == "Blue.\n" and "Colours are easy." in shown.stderr


def test_two_asks_are_one_conversation(ask: Ask) -> None:
    ask.sim.enqueue("chat", ChatReply(content="Hi Ada."), ChatReply(content="Ada."))
    ask("I am Ada.")
    ask("Who am I?")
    sent = ask.sim.requests_for("chat")[1].json["messages"]
    assert [m["content"] for m in sent[1:]] == ["I am Ada.", "Hi Ada.", "Who am I?"]


def test_without_a_terminal_side_effects_are_refused(ask: Ask, tmp_path: Path) -> None:
    script, out = recorder(tmp_path)
    ask.config(f'[tools]\nopen_command = "{script}"\n')
    ask.sim.enqueue(
        "chat",
        ChatReply(tool_calls=[ToolCall("open_url", {"url": "https://example.org"}, id="c1")]),
        ChatReply(content="I did not open it."),
    )
    result = ask("open example.org")
    assert result.returncode == 0
    assert (
        "stdin is not a terminal" in result.stderr and "Open https://example.org?" in result.stderr
    )
    assert "did not allow" in ask.sim.requests_for("chat")[1].json["messages"][-1]["content"]
    time.sleep(0.2)
    assert not out.exists()


def ask_on_a_terminal(ask: Ask, answer: bytes, *args: str) -> tuple[int, str, str]:
    """Run ask with a pseudo-terminal on stdin; type ``answer`` once the question shows."""
    master, slave = pty.openpty()
    process = spawn_voiced(
        "ask",
        *args,
        env=ask.env,
        cwd=ask.home,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    try:
        assert process.stderr is not None and process.stdout is not None
        err = b""
        deadline = time.monotonic() + 20
        while b"[y/N]" not in err:
            assert time.monotonic() < deadline, f"no question asked: {err!r}"
            ready, _, _ = select.select([process.stderr], [], [], 0.5)
            if ready:
                chunk = os.read(process.stderr.fileno(), 4096)
                assert chunk, f"stderr closed before the question: {err!r}"
                err += chunk
        os.write(master, answer)
        out, rest = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        os.close(master)
    return process.returncode, out.decode(), (err + rest).decode()


@pytest.mark.parametrize(("answer", "runs"), [(b"y\n", True), (b"\n", False), (b"nope\n", False)])
def test_the_terminal_asks_before_opening_and_defaults_to_no(
    ask: Ask, tmp_path: Path, answer: bytes, runs: bool
) -> None:
    script, out = recorder(tmp_path)
    ask.config(f'[tools]\nopen_command = "{script}"\n')
    ask.sim.enqueue(
        "chat",
        ChatReply(tool_calls=[ToolCall("open_url", {"url": "https://example.org"}, id="c1")]),
        ChatReply(content="Done."),
    )
    code, stdout, stderr = ask_on_a_terminal(ask, answer, "open example.org")
    assert code == 0 and stdout == "Done.\n"
    assert "voiced: Open https://example.org? [y/N]" in stderr
    result = ask.sim.requests_for("chat")[1].json["messages"][-1]["content"]
    if runs:
        assert result == "Opened https://example.org."
        deadline = time.monotonic() + 10
        while not out.exists():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert out.read_text().strip() == "https://example.org"
    else:
        assert "did not allow" in result
        time.sleep(0.2)
        assert not out.exists()
