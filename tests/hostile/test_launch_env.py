"""Classes 6 and 7, launching: a program voiced opens never gets the API key or voiced's other
variables, runs in a session of its own, and from the service is started by the user manager
(systemd-run --user), outside the service's sandbox. `voiced ask` on a terminal opens a URL
with a recording program; a recording `systemd-run` first on PATH stands in for systemd's."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.converse.test_ask import Ask, ask_on_a_terminal
from tests.groqsim import ChatReply, GroqSim, ToolCall

pytestmark = pytest.mark.subprocess

URL = "https://example.org/"
EXTRA = {
    "DISPLAY": ":42",
    "VOICED_SOCKET": "/nonexistent/control.sock",
    "AWS_SECRET_ACCESS_KEY": "not-for-the-browser",
}
"""Added to `voiced ask`'s environment (which holds GROQ_API_KEY and GROQ_BASE_URL)."""
KEPT = {"DISPLAY", "HOME", "PATH", "XDG_CONFIG_HOME", "XDG_DATA_HOME"}
"""What of that environment a launched program keeps."""


@pytest.fixture
def ask(groqsim: GroqSim, tmp_path: Path) -> Ask:
    asking = Ask(groqsim, tmp_path)
    asking.env.update(EXTRA)
    return asking


def recording_opener(tmp_path: Path) -> tuple[Path, Path]:
    """A program that records its arguments, environment and /proc stat line."""
    out = tmp_path / "opened"
    script = tmp_path / "open.sh"
    script.write_text(
        "#!/bin/sh\n"
        f"env > {out}.env\n"
        f"cat /proc/$$/stat > {out}.stat\n"
        # The launcher that is its parent may be gone already (empty then: not voiced).
        f"cat /proc/$PPID/cmdline 2>/dev/null | tr '\\0' ' ' > {out}.parent\n"
        f'echo "$@" > {out}.part && mv {out}.part {out}\n'
    )
    script.chmod(0o755)
    return script, out


def fake_systemd_run(tmp_path: Path, fails: bool = False) -> Path:
    """A `systemd-run` that records its argv and environment, then starts the command after
    `--` in the background (as the user manager would), or fails as without a user bus."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "systemd-run"
    start = (
        'echo "Failed to connect to bus: No medium found" >&2\nexit 1\n'
        if fails
        else 'while [ "$1" != "--" ]; do shift; done\nshift\n"$@" </dev/null >/dev/null 2>&1 &\n'
    )
    runner = bin_dir / "systemd-run"
    runner.write_text(
        f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {record}.argv\nenv > {record}.env\n{start}"
    )
    runner.chmod(0o755)
    return bin_dir


def open_it(ask: Ask, script: Path, out: Path) -> str:
    """Ask to open URL, allow it on the terminal, and return what the opener was given."""
    ask.config(f'[tools]\nopen_command = "{script}"\n')
    ask.sim.enqueue(
        "chat",
        ChatReply(tool_calls=[ToolCall("open_url", {"url": URL}, id="c1")]),
        ChatReply(content="Opened."),
    )
    code, stdout, stderr = ask_on_a_terminal(ask, b"y\n", "open example.org")
    assert code == 0 and stdout == "Opened.\n", stderr
    deadline = time.monotonic() + 10
    while not out.exists():
        assert time.monotonic() < deadline, "the opener never ran"
        time.sleep(0.02)
    return out.read_text().strip()


def environment_of(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def session_of(out: Path) -> tuple[int, int]:
    """(parent pid, session id) of the recorded program."""
    fields = out.with_suffix(".stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[3])


def assert_clean(env: dict[str, str]) -> None:
    assert "GROQ_API_KEY" not in env and TEST_KEY not in "".join(env.values())
    assert not any(name.startswith(("GROQ_", "VOICED_")) for name in env), sorted(env)
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert env["DISPLAY"] == ":42" and "PATH" in env and "XDG_DATA_HOME" in env


def test_a_launched_program_gets_no_key_and_a_session_of_its_own(ask: Ask, tmp_path: Path) -> None:
    script, out = recording_opener(tmp_path)
    assert open_it(ask, script, out) == URL
    assert_clean(environment_of(out.with_suffix(".env")))
    _, session = session_of(out)
    assert session != os.getsid(0), "it shares the session of voiced (and of this test)"
    parent = out.with_suffix(".parent").read_text()
    assert " -m voiced ask " not in parent, "voiced is its parent"
    assert not (tmp_path / "systemd-run.argv").exists()


def test_under_systemd_the_user_manager_starts_it_with_systemd_run(
    ask: Ask, tmp_path: Path
) -> None:
    script, out = recording_opener(tmp_path)
    bin_dir = fake_systemd_run(tmp_path)
    ask.env["PATH"] = f"{bin_dir}:{ask.env['PATH']}"
    ask.env["INVOCATION_ID"] = "0123456789abcdef0123456789abcdef"  # as systemd sets it
    assert open_it(ask, script, out) == URL
    argv = (tmp_path / "systemd-run.argv").read_text().splitlines()
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    assert options[:3] == ["--user", "--collect", "--quiet"]
    assert "--scope" not in options  # a scope would stay in the service's mount namespace
    passed = set(options[3:]) - {"--setenv=LC_CTYPE"}  # Python sets it in a C locale (PEP 538)
    assert passed == {f"--setenv={name}" for name in KEPT}
    assert command == [str(script), URL]
    assert_clean(environment_of(tmp_path / "systemd-run.env"))
    assert_clean(environment_of(out.with_suffix(".env")))


def test_when_systemd_run_fails_the_program_is_started_in_its_own_session(
    ask: Ask, tmp_path: Path
) -> None:
    script, out = recording_opener(tmp_path)
    bin_dir = fake_systemd_run(tmp_path, fails=True)
    ask.env["PATH"] = f"{bin_dir}:{ask.env['PATH']}"
    ask.env["INVOCATION_ID"] = "0123456789abcdef0123456789abcdef"
    assert open_it(ask, script, out) == URL
    assert (tmp_path / "systemd-run.argv").exists()
    assert_clean(environment_of(out.with_suffix(".env")))
    assert session_of(out)[1] != os.getsid(0)
