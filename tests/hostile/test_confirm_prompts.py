"""Class 10, confirmation prompts: a cancelled turn's question is withdrawn from every client; a
URL cannot disguise what a prompt shows (escapes, bidi overrides, user:pass@), and each prompt
names the host on its own line; the TUI opens only http, https and mailto links."""

from __future__ import annotations

import asyncio
import io
import os
import pty
import webbrowser
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Markdown

from tests.converse.test_ask import Ask, ask_on_a_terminal, recorder
from tests.daemon.helpers import next_of
from tests.daemon.replaying import replay, settings_for
from tests.groqsim import ChatReply, GroqSim, ToolCall
from tests.listen.scenes import lay_out
from tests.tui.conftest import SIZE, attached, until
from tests.tui.daemon import RunningDaemon, short_tempdir
from tests.tui.screen import screen_text
from voiced.commands.ask import TerminalConfirm
from voiced.converse.tools.runner import ConfirmRequest as Asked
from voiced.daemon.app import Daemon
from voiced.protocol import ConfirmRequest, ConfirmResolved, ControlClient, History, SendText
from voiced.protocol import events as e
from voiced.tui.app import VoicedApp
from voiced.tui.widgets.confirm import ConfirmPrompt

ESC = "\x1b"
RLO = "\u202e"
"""RIGHT-TO-LEFT OVERRIDE: shows the text after it backwards."""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def ask(groqsim: GroqSim, tmp_path: Path) -> Ask:
    return Ask(groqsim, tmp_path)


@pytest.fixture
async def daemon() -> Any:
    path, cleanup = short_tempdir()
    running = RunningDaemon(path / "control.sock")
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        cleanup()


@pytest.mark.realtime
async def test_a_cancelled_turns_confirmation_is_resolved_for_every_client(
    groqsim: GroqSim, home: Path
) -> None:
    groqsim.enqueue(
        "chat", ChatReply(tool_calls=[ToolCall("open_url", {"url": "https://a.example"})])
    )
    groqsim.enqueue("chat", ChatReply(content="It is noon.", ttft=0.05))
    resolved: list[ConfirmResolved] = []
    replayed: list[Any] = []

    async def user(daemon: Daemon) -> None:
        async with await ControlClient.connect(daemon.socket_path) as client:
            assert (await client.request(SendText(text="open a.example"))).ack.ok
            asked = await next_of(client, ConfirmRequest, within=20)
            # A new question cancels the turn that waits for the answer.
            assert (await client.request(SendText(text="what time is it?"))).ack.ok
            resolved.append(await next_of(client, ConfirmResolved, within=10))
            assert resolved[0].call_id == asked.call_id
        async with await ControlClient.connect(daemon.socket_path) as late:
            replayed.append(await next_of(late, History))
            replayed.append(await anext(aiter(late)))  # what comes after the history

    await replay(lay_out("quiet", [8.0]), settings_for(groqsim, home), home, during=user)
    assert not resolved[0].approved and resolved[0].by == "cancel"
    assert not isinstance(replayed[1], ConfirmRequest), "a late client was asked it again"


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("url", "why"),
    [
        (f"https://example.org/{ESC}[2K{ESC}[1Ghttps://bank.example/", "U+001B"),
        (f"https://example.org/{RLO}gpj.exe", "U+202E"),
        ("https://bank.example:secure@attacker.example/", "user name or password"),
        ("https://bank.example\u2028.attacker.example/", "U+2028"),
    ],
    ids=["terminal escape", "bidi override", "userinfo", "line separator"],
)
def test_a_disguised_url_is_refused_before_anyone_is_asked(
    ask: Ask, tmp_path: Path, url: str, why: str
) -> None:
    script, out = recorder(tmp_path)
    ask.config(f'[tools]\nopen_command = "{script}"\n')
    ask.sim.enqueue(
        "chat",
        ChatReply(tool_calls=[ToolCall("open_url", {"url": url}, id="c1")]),
        ChatReply(content="I did not open it."),
    )
    result = ask("open the page")
    assert result.returncode == 0 and ESC not in result.stderr and RLO not in result.stderr
    assert "confirm on" not in result.stderr, "the question was put"
    told = ask.sim.requests_for("chat")[1].json["messages"][-1]["content"]
    assert "invalid arguments for open_url" in told and why in told
    assert not out.exists()


@pytest.mark.subprocess
def test_the_terminal_prompt_shows_the_host_on_its_own_line(ask: Ask, tmp_path: Path) -> None:
    script, out = recorder(tmp_path)
    ask.config(f'[tools]\nopen_command = "{script}"\n')
    url = "https://login.bank.example.attacker.example/bank.example/signin"
    ask.sim.enqueue(
        "chat",
        ChatReply(tool_calls=[ToolCall("open_url", {"url": url}, id="c1")]),
        ChatReply(content="Not opened."),
    )
    code, stdout, stderr = ask_on_a_terminal(ask, b"n\n", "open my bank")
    assert code == 0
    assert f"\nvoiced: host: login.bank.example.attacker.example\nvoiced: Open {url}? [y/N]" in (
        stderr
    )


async def test_the_terminal_prompt_escapes_what_a_tools_question_hides() -> None:
    # A third-party tool's question built from the model's words, shown on a terminal.
    master, slave = pty.openpty()
    err = io.StringIO()
    question = f"Send {ESC}[8mthe secret{ESC}[0m to {RLO}moc.elpmaxe?"
    request = Asked("send", {"to": "https://example.org/x"}, question)
    with os.fdopen(slave, "r") as terminal:
        asking = asyncio.create_task(TerminalConfirm(terminal, err)(request))
        await asyncio.sleep(0.1)
        os.write(master, b"y\n")
        assert await asking is True
    os.close(master)
    shown = err.getvalue()
    assert ESC not in shown and RLO not in shown
    assert "Send \\x1b[8mthe secret\\x1b[0m to \\u202emoc.elpmaxe? [y/N]" in shown
    assert "voiced: host: example.org\n" in shown


async def test_the_tui_prompt_shows_the_host_on_its_own_line_and_escapes_the_rest(
    daemon: RunningDaemon,
) -> None:
    app = VoicedApp(daemon.socket)
    url = f"https://xn--pple-43d.com/{RLO}fdp.exe"
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        daemon.publish(
            e.ConfirmRequest(
                turn=1,
                call_id="c",
                name="open_url",
                arguments=f'{{"url": "{url}"}}',
                question=f"Open {url}?",
            )
        )
        await until(pilot, lambda: "host: xn--pple-43d.com" in screen_text(app), "the host")
        prompt = app.query_one(ConfirmPrompt)
        lines = [line.strip() for line in str(prompt.render()).splitlines()]
        assert lines[-1] == "host: xn--pple-43d.com"
        assert RLO not in str(prompt.render()) and "\\u202efdp.exe" in str(prompt.render())


async def test_the_tui_opens_only_http_https_and_mailto_links(
    daemon: RunningDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url) or True)
    app = VoicedApp(daemon.socket)
    links = ["file:///etc/passwd", "javascript:alert(1)", "x-scheme:run", "https://example.org/"]
    async with app.run_test(size=SIZE) as pilot:
        await attached(pilot)
        text = " ".join(f"[link {n}]({href})" for n, href in enumerate(links))
        daemon.publish(
            e.Transcript(turn=1, text="links please", accepted=True),
            e.AssistantText(turn=1, text=text),
        )
        await until(pilot, lambda: "link 3" in screen_text(app), "the reply")
        reply = app.query(Markdown).last()
        for href in [*links, "mailto:someone@example.org"]:
            reply.post_message(Markdown.LinkClicked(reply, href))
        await until(pilot, lambda: len(opened) == 2, "the allowed links to open")
        await pilot.pause(0.1)
    assert opened == ["https://example.org/", "mailto:someone@example.org"]
