"""The README and docs/ say what the code does: every config key, command, option, key,
link, protocol event and field, the license, the screenshot and the tool example."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tomllib
from collections.abc import AsyncIterator
from dataclasses import MISSING, Field, fields
from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding

from tests.running import RunningDaemon
from tests.tui.daemon import short_tempdir
from voiced.cli import build_parser
from voiced.config import SECTIONS
from voiced.converse.tools import ENTRY_POINT_GROUP, ToolContext, ToolError, entry_point_tools
from voiced.daemon import IdleEngine
from voiced.protocol import COMMAND_TYPES, EVENT_TYPES, PROTOCOL_VERSION, AssistantText
from voiced.protocol.paths import socket_path
from voiced.protocol.reports import HistoryEntry, McpServerLine
from voiced.protocol.wire import MAX_COMMAND_BYTES, MAX_EVENT_BYTES
from voiced.tui.app import VoicedApp

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def config_block() -> str:
    start = README.index("## Configuration")
    match = re.search(r"```toml\n(.*?)```", README[start:], re.S)
    assert match, "the Configuration section has no toml block"
    return match.group(1)


def test_every_config_key_is_documented_with_its_section() -> None:
    block = config_block()
    sections = re.split(r"^\[(\w+)\]$", block, flags=re.M)[1:]
    documented = dict(zip(sections[::2], sections[1::2], strict=True))
    assert set(documented) == set(SECTIONS)
    for name, cls in SECTIONS.items():
        for field in fields(cls):
            assert re.search(rf"^#? ?{field.name} = ", documented[name], re.M), (
                f"[{name}] {field.name} is not in the README's config block"
            )


def test_quick_start_is_two_commands_and_ci_runs_the_test_one() -> None:
    start = README.index("## Quick start")
    block = re.search(r"```sh\n(.*?)```", README[start:], re.S)
    assert block
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    commands = [c for c in commands if c]
    assert len(commands) == 2
    test_command = next(c for c in commands if c.endswith(" test"))
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command.removeprefix("./") in ci


# The README opens with the quick start, and everything it points at exists.

DOCS = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def test_the_readme_opens_with_the_quick_start() -> None:
    headings = re.findall(r"^## (.+)$", FENCE.sub("", README), re.M)
    assert headings[0] == "Quick start"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", markdown), re.M)}


@pytest.mark.parametrize("page", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    text = page.read_text()
    for target in LINK.findall(FENCE.sub("", text)):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.exists(), f"{page.name} links to {target}, which does not exist"
        if anchor:
            assert anchor in anchors(file.read_text()), f"{page.name}: no heading for {target}"


def test_the_screenshot_is_the_reviewed_tui_snapshot() -> None:
    """docs/tui-main-screen.svg is a copy of the snapshot test's SVG, so it never drifts."""
    shown = ROOT / "docs" / "tui-main-screen.svg"
    assert f"]({shown.relative_to(ROOT)})" in README
    snapshot = ROOT / "tests" / "tui" / "snapshots" / "main_screen.svg"
    assert shown.read_bytes() == snapshot.read_bytes(), (
        "the TUI snapshot changed: cp tests/tui/snapshots/main_screen.svg docs/tui-main-screen.svg"
    )


def test_the_license_the_readme_names_is_the_one_pyproject_declares() -> None:
    license_text = (ROOT / "LICENSE").read_text()
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert declared == "MIT" and license_text.startswith("MIT License")
    assert "MIT (see [LICENSE](LICENSE))" in README


# Every command the README shows is one voiced has, with options it takes.


def documented_command_lines() -> list[str]:
    spans = re.findall(r"`([^`\n]+)`", FENCE.sub("", README))
    for block in re.findall(r"^```sh\n(.*?)^```", README, re.S | re.M):
        spans += [line.split("  #")[0] for line in block.splitlines()]
    found = []
    for span in spans:
        match = re.search(r"(?:^|/bin/|\s)voiced((?: [^ ]+)*)", span)
        if match and (span.startswith("voiced") or "bin/voiced" in span):
            found.append("voiced" + match.group(1))
    return found


def test_every_voiced_command_the_readme_shows_exists_with_its_options() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    top = {s for a in parser._actions for s in a.option_strings}
    lines = documented_command_lines()
    assert len(lines) > 50, lines
    for line in lines:
        words = line.split()[1:]
        if any(":" in w for w in words):  # a message voiced prints ("voiced refused: …")
            words = words[: next(i for i, w in enumerate(words) if ":" in w)]
        while words and words[0] in top:
            words.pop(0)
        if not words or words[0] == "COMMAND":
            continue
        name = words[0]
        assert name in commands, f"the README shows `{line}`: voiced has no command {name!r}"
        options = {s for a in commands[name]._actions for s in a.option_strings} | top
        for flag in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", " ".join(words[1:])):
            assert flag in options, f"the README shows `{line}`: {name} has no {flag}"


def test_every_option_in_the_commands_table_is_one_its_command_takes() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    top = {s for a in parser._actions for s in a.option_strings}
    table = README[README.index("\n## Commands\n") :]
    table = table[: table.index("\n### ")]
    rows = re.findall(r"^\| `voiced ([a-z]+)[^|]*\| (.*) \|$", table, re.M)
    assert len(rows) >= 18
    for name, description in rows:
        options = {s for a in commands[name]._actions for s in a.option_strings} | top
        described = re.sub(r"minus `[^`]*`", "", description)  # translate: "minus --language"
        for span in re.findall(r"`(-[^`]*)`", described):
            flag = span.split()[0].split("=")[0].split("\\|")[0]
            assert flag in options, f"the README's row for voiced {name} shows {flag}"


def test_every_tui_key_is_in_the_readme_key_table() -> None:
    table = README[README.index("### The terminal interface") :]
    table = table[: table.index("\n### ", 1)]
    keys = {"question_mark": "?", "escape": "escape", "space": "space"}
    for binding in VoicedApp.BINDINGS:
        assert isinstance(binding, Binding)
        key = keys.get(binding.key, binding.key)
        assert re.search(rf"^\| [^|]*\b{re.escape(key)}\b", table, re.M) or (
            f"| {key} " in table
        ), f"the key {key} ({binding.description}) is not in the README's key table"


# Client writers: the README lists every event and command, docs/protocol.md every field.

PROTOCOL_DOC = (ROOT / "docs" / "protocol.md").read_text()


def listed(label: str) -> list[str]:
    match = re.search(rf"^{label}: (.*?)\.\n\n", README, re.S | re.M)
    assert match, f"the README has no '{label}:' list"
    return re.findall(r"`(\w+)`", match.group(1))


def test_the_readme_lists_every_event_and_command_of_the_protocol() -> None:
    assert sorted(listed("Events")) == sorted(EVENT_TYPES)
    assert sorted(listed("Commands")) == sorted(COMMAND_TYPES)


def doc_section(title: str) -> dict[str, str]:
    """The ``#### name`` entries of one ``## title`` part of docs/protocol.md."""
    part = PROTOCOL_DOC[PROTOCOL_DOC.index(f"\n## {title}\n") :]
    part = part[: part.index("\n## ", 1)]
    pieces = re.split(r"^#### `?(\w+)`?$", part, flags=re.M)[1:]
    return dict(zip(pieces[::2], pieces[1::2], strict=True))


def documented_fields(entry: str) -> dict[str, str]:
    """Field name -> its documented default, from an entry's table."""
    rows = re.findall(r"^\| `(\w+)` \| [^|]*(?:\\\|[^|]*)* \| ([^|]+) \|", entry, re.M)
    return {name: default.strip() for name, default in rows}


def default_shown(field: Field[Any]) -> str:
    if field.default is not MISSING:
        value = field.default
    elif field.default_factory is not MISSING:
        value = field.default_factory()
    else:
        return "required"
    return f"`{json.dumps(value)}`"


@pytest.mark.parametrize(
    ("title", "types"),
    [("Events", EVENT_TYPES), ("Commands", COMMAND_TYPES)],
)
def test_docs_protocol_documents_every_type_with_its_fields_and_defaults(
    title: str, types: dict[str, type[Any]]
) -> None:
    entries = doc_section(title)
    assert set(types) <= set(entries), f"undocumented: {set(types) - set(entries)}"
    nested = {"HistoryEntry": HistoryEntry, "McpServerLine": McpServerLine}
    for name, entry in entries.items():
        cls = types.get(name) or nested[name]
        own = [f for f in fields(cls) if not (title == "Commands" and f.name == "id")]
        shown = documented_fields(entry)
        assert set(shown) == {f.name for f in own}, f"{name}: {set(shown) ^ {f.name for f in own}}"
        for field in own:
            assert shown[field.name] == default_shown(field), f"{name}.{field.name}"


def test_docs_protocol_states_the_version_and_limits_the_code_has() -> None:
    assert f"(now **{PROTOCOL_VERSION}**)" in PROTOCOL_DOC
    assert f"**{MAX_EVENT_BYTES >> 10} KiB**" in PROTOCOL_DOC
    assert f"**{MAX_COMMAND_BYTES >> 10} KiB**" in PROTOCOL_DOC
    assert f"`protocol` (now {PROTOCOL_VERSION})" in README


# How to write a tool: the README's plug-in, installed as a distribution, is loaded by voiced.


def readme_block(language: str, first_line: str) -> str:
    for block in re.findall(rf"^```{language}\n(.*?)^```", README, re.S | re.M):
        if block.startswith(first_line):
            return str(block)
    raise AssertionError(f"the README has no {language} block starting {first_line!r}")


async def test_the_readme_tool_plugin_loads_through_its_entry_point_and_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tomllib.loads(readme_block("toml", "# voiced-shopping/pyproject.toml"))["project"]
    points = project["entry-points"][ENTRY_POINT_GROUP]
    package = tmp_path / "site"
    (package / "voiced_shopping").mkdir(parents=True)
    (package / "voiced_shopping" / "__init__.py").write_text(
        readme_block("python", "# voiced-shopping/voiced_shopping/__init__.py")
    )
    info = package / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Name: {project['name']}\nVersion: {project['version']}\n")
    lines = "".join(f"{name} = {value}\n" for name, value in points.items())
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}")
    monkeypatch.syspath_prepend(str(package))
    monkeypatch.delitem(sys.modules, "voiced_shopping", raising=False)
    data = tmp_path / "data"
    data.mkdir()

    loaded = {t.name: t for t in entry_point_tools(ToolContext(data_dir=data))}
    sys.modules.pop("voiced_shopping", None)

    read, add, clear = (
        loaded["read_shopping_list"],
        loaded["add_to_shopping_list"],
        loaded["clear_shopping_list"],
    )
    assert {t.source for t in (read, add, clear)} == {"plugin shopping"}
    assert add.parameters["required"] == ["item"]
    assert add.parameters["properties"]["quantity"]["type"] == "integer"
    assert "oat milk" in add.parameters["properties"]["item"]["description"]
    assert (read.confirm, add.confirm, clear.confirm) == (False, False, True)
    assert clear.confirm_verbs == ("clear", "empty")
    assert await read.invoke(read.check("{}")) == "The shopping list is empty."
    added = await add.invoke(add.check('{"item": "oat milk", "quantity": 2}'))
    assert added == "Added 2 × oat milk."
    with pytest.raises(ToolError):
        await add.invoke(add.check('{"item": " "}'))
    assert await read.invoke({}) == "2 × oat milk"
    assert clear.question(clear.check("{}")) == "Clear the shopping list (2 × oat milk)?"
    assert f"voiced: {clear.question({})} [y/N]" in README
    assert await clear.invoke({}) == "The shopping list is now empty."
    with pytest.raises(ToolError, match="already empty"):
        await clear.invoke({})


def test_every_dependency_is_named_in_the_readme_and_explained_in_docs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    names = [re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0] for spec in wanted]
    paragraph = README[README.index("- Dependencies, and why each is there") :]
    paragraph = paragraph[: paragraph.index("\n\n")]
    why = (ROOT / "docs" / "dependencies.md").read_text()
    for name in names:
        assert re.search(rf"[ \n]{re.escape(name)}[,.;]", paragraph), f"README: {name}"
        assert f"`{name}`" in why, f"docs/dependencies.md does not say why {name} is there"


# docs/protocol.md's two example clients, run against a real daemon on its default socket.


class AnsweringEngine(IdleEngine):
    """An idle engine that answers every typed message with one fixed reply."""

    async def submit_text(self, text: str) -> None:
        await super().submit_text(text)
        self.bus.publish(AssistantText(turn=len(self.texts), text="It is noon."))


def doc_python_block(heading: str) -> str:
    part = PROTOCOL_DOC[PROTOCOL_DOC.index(f"\n## {heading}\n") :]
    match = re.search(r"```python\n(.*?)```", part, re.S)
    assert match, f"docs/protocol.md's {heading!r} has no python block"
    return match.group(1)


@pytest.fixture
async def default_socket_daemon(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RunningDaemon]:
    """A daemon at $XDG_RUNTIME_DIR/voiced/control.sock, the socket the examples find."""
    runtime, cleanup = short_tempdir()
    runtime.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("VOICED_SOCKET", raising=False)
    running = RunningDaemon(socket_path(), engine=lambda d: AnsweringEngine(d.bus))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        cleanup()


async def test_the_plain_python_client_of_docs_protocol_talks_to_the_daemon(
    default_socket_daemon: RunningDaemon, capsys: pytest.CaptureFixture[str]
) -> None:
    code = compile(doc_python_block("A client in plain Python"), "protocol.md", "exec")
    await asyncio.wait_for(asyncio.to_thread(exec, code, {}), timeout=10)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("voiced ") and printed[0].endswith(" is listening")
    assert [line.split()[0] for line in printed[1:]][:1] == ["history"]
    assert printed[-2].startswith("status ") and printed[-1].startswith("ack ")


async def test_the_control_client_example_of_docs_protocol_gets_its_answer(
    default_socket_daemon: RunningDaemon, capsys: pytest.CaptureFixture[str]
) -> None:
    source = doc_python_block("A client in Python")
    assert source.rstrip().endswith("asyncio.run(main())")
    namespace: dict[str, Any] = {}
    exec(
        compile(source.rstrip().removesuffix("asyncio.run(main())"), "protocol.md", "exec"),
        namespace,
    )
    await asyncio.wait_for(namespace["main"](), timeout=10)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].endswith(" is listening") and printed[-1] == "It is noon."


def test_every_benchmark_is_listed_and_documented_with_options_it_takes() -> None:
    figures = (ROOT / "docs" / "benchmarks.md").read_text()
    scripts = sorted((ROOT / "bench").glob("[a-z]*.py"))
    assert scripts
    for script in scripts:
        assert f"`{script.name}`" in README, f"the README's Development list lacks {script.name}"
        heading = re.search(rf"^## .*`bench/{script.name}`$", figures, re.M)
        assert heading, f"docs/benchmarks.md has no section for {script.name}"
        taken = set(re.findall(r'add_argument\(\s*"(--[\w-]+)"', script.read_text()))
        for usage in re.findall(rf"`\.venv/bin/python bench/{script.name} ([^`]*)`", figures):
            for flag in re.findall(r"--[\w-]+", usage):
                assert flag in taken, f"docs/benchmarks.md: {script.name} has no {flag}"
