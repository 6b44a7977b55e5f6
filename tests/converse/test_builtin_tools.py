"""The built-in tools on real parts: a loopback Open-Meteo, real files, processes and psutil."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from voiced.converse.prompt import describe_moment
from voiced.converse.tools import ToolRegistry, ToolRunner
from voiced.converse.tools.builtin.clock import clock_tools
from voiced.converse.tools.builtin.launch import exec_command, launch_tools
from voiced.converse.tools.builtin.notes import NotesFile, notes_tools
from voiced.converse.tools.builtin.system import system_tools
from voiced.converse.tools.builtin.timer_tools import MAX_PENDING, timer_tools
from voiced.converse.tools.builtin.timers import TimerService
from voiced.converse.tools.builtin.timerstore import TimerStore
from voiced.converse.tools.builtin.weather import OFFLINE, OpenMeteo, weather_tools
from voiced.converse.tools.registry import Tool, ToolError
from voiced.groq.models import ToolCall

LYON = {
    "id": 2996944,
    "name": "Lyon",
    "latitude": 45.74846,
    "longitude": 4.84671,
    "elevation": 173.0,
    "feature_code": "PPLA",
    "country_code": "FR",
    "timezone": "Europe/Paris",
    "population": 522969,
    "country": "France",
    "admin1": "Auvergne-Rhône-Alpes",
}
FORECAST = {
    "latitude": 45.76,
    "longitude": 4.84,
    "generationtime_ms": 0.05,
    "utc_offset_seconds": 3600,
    "timezone": "Europe/Paris",
    "timezone_abbreviation": "CET",
    "elevation": 173.0,
    "current_units": {"time": "iso8601", "interval": "seconds", "temperature_2m": "°C"},
    "current": {
        "time": "2026-03-03T14:00",
        "interval": 900,
        "temperature_2m": 12.3,
        "apparent_temperature": 10.1,
        "relative_humidity_2m": 61,
        "weather_code": 3,
        "wind_speed_10m": 14.2,
    },
    "daily_units": {"time": "iso8601", "temperature_2m_max": "°C"},
    "daily": {
        "time": ["2026-03-03", "2026-03-04"],
        "weather_code": [3, 61],
        "temperature_2m_max": [13.5, 11.0],
        "temperature_2m_min": [4.2, 6.1],
        "precipitation_probability_max": [10, 80],
    },
}


class MeteoHandler(BaseHTTPRequestHandler):
    """Answers like Open-Meteo's geocoding (/geo/v1/search) and forecast (/v1/forecast)."""

    server: MeteoServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.seen.append((url.path, query))
        if url.path == "/geo/v1/search":
            found = [LYON] if query.get("name", "").lower() == "lyon" else None
            body: dict[str, Any] = {"generationtime_ms": 0.6}
            if found:
                body["results"] = found
        elif url.path == "/v1/forecast":
            body = FORECAST
        else:
            self.send_error(404)
            return
        data = self.server.replies.get(url.path) or json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class MeteoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), MeteoHandler)
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.replies: dict[str, bytes] = {}
        """Bodies sent instead of the usual ones, by path."""

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def meteo() -> Iterator[MeteoServer]:
    server = MeteoServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def weather_tool(geocoding: str, forecast: str) -> Tool:
    (tool,) = weather_tools(OpenMeteo(geocoding, forecast))
    return tool


async def test_weather_from_open_meteo(meteo: MeteoServer) -> None:
    tool = weather_tool(meteo.root + "/geo/v1", meteo.root + "/v1/")
    said = await tool.invoke({"place": "Lyon, France"})
    assert said == (
        "In Lyon, France it is now 12.3 degrees Celsius, feeling like 10.1, with overcast, "
        "humidity 61 percent and wind at 14.2 kilometres per hour. "
        "Today: overcast, from 4.2 to 13.5 degrees, 10 percent chance of rain. "
        "Tomorrow: light rain, from 6.1 to 11.0 degrees, 80 percent chance of rain."
    )
    (geo_path, geo), (forecast_path, forecast) = meteo.seen
    assert geo_path == "/geo/v1/search" and geo["name"] == "Lyon" and geo["count"] == "1"
    assert forecast_path == "/v1/forecast"
    assert (forecast["latitude"], forecast["longitude"]) == ("45.74846", "4.84671")
    assert "temperature_2m" in forecast["current"] and forecast["timezone"] == "auto"


async def test_weather_for_an_unknown_place(meteo: MeteoServer) -> None:
    tool = weather_tool(meteo.root + "/geo/v1", meteo.root + "/v1")
    with pytest.raises(ToolError, match="no place called 'Atlantis'"):
        await tool.invoke({"place": "Atlantis"})


async def test_weather_reads_at_most_a_megabyte_and_copes_with_odd_replies(
    meteo: MeteoServer,
) -> None:
    tool = weather_tool(meteo.root + "/geo/v1", meteo.root + "/v1")
    meteo.replies["/v1/forecast"] = b'{"current": ' + b" " * (2 << 20) + b"{}}"
    with pytest.raises(ToolError, match="the weather service sent more than 1 MB"):
        await tool.invoke({"place": "Lyon"})
    meteo.replies["/v1/forecast"] = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(ToolError, match="sent something unreadable"):
        await tool.invoke({"place": "Lyon"})
    odd = {"current": [1], "daily": {"temperature_2m_min": "ab", "weather_code": {}}}
    meteo.replies["/v1/forecast"] = json.dumps(odd).encode()
    assert await tool.invoke({"place": "Lyon"}) == (
        "In Lyon, France it is now unknown degrees Celsius, with unknown weather, "
        "humidity unknown percent and wind at unknown kilometres per hour."
    )
    meteo.replies["/geo/v1/search"] = json.dumps({"results": [{"name": "Lyon"}]}).encode()
    with pytest.raises(ToolError, match="sent something unreadable"):
        await tool.invoke({"place": "Lyon"})
    with pytest.raises(ToolError, match="at most 200 characters"):
        await tool.invoke({"place": "Lyon" * 100})


@pytest.mark.parametrize(
    "root",
    ["http://127.0.0.1:9/v1", "http://open-meteo.invalid/v1"],
    ids=["connection-refused", "no-dns"],
)
async def test_weather_offline_is_a_clear_answer_for_the_model(root: str) -> None:
    runner = ToolRunner(ToolRegistry(weather_tools(OpenMeteo(root, root))))
    (outcome,) = await runner.run([ToolCall("c1", "weather", '{"place": "Lyon"}')])
    assert outcome.problem == "failed"
    assert json.loads(outcome.content) == {"error": OFFLINE}
    assert "offline" in OFFLINE


async def test_notes_are_added_read_and_searched(tmp_path: Path) -> None:
    path = tmp_path / "private" / "notes.md"
    tools = {t.name: t for t in notes_tools(NotesFile(path, zone=lambda: ZoneInfo("UTC")))}
    assert await tools["read_notes"].invoke({}) == "There are no notes yet."
    for text in ("Buy oat milk", "Call   Sam about the\nboat", "Oat flakes too"):
        assert await tools["add_note"].invoke({"text": text}) == "Noted."
    lines = path.read_text().splitlines()
    assert re.fullmatch(r"- \d{4}-\d\d-\d\d \d\d:\d\d Call Sam about the boat", lines[1])
    assert path.stat().st_mode & 0o777 == 0o600
    latest = await tools["read_notes"].invoke({"count": 2})
    assert latest.startswith("3 notes in all; the latest: ")
    assert "Call Sam" in latest and "Oat flakes" in latest and "oat milk" not in latest
    found = await tools["search_notes"].invoke({"query": "OAT"})
    assert found.startswith("2 notes match") and "boat" not in found
    assert (
        await tools["search_notes"].invoke({"query": "sam boat"}) != "No note mentions 'sam boat'."
    )
    assert await tools["search_notes"].invoke({"query": "kayak"}) == "No note mentions 'kayak'."
    with pytest.raises(ToolError, match="empty"):
        await tools["add_note"].invoke({"text": "  "})


async def test_system_status_reports_real_figures(tmp_path: Path) -> None:
    (tool,) = system_tools(tmp_path)
    report = await tool.invoke({})
    assert re.search(r"(There is no battery|The battery is at \d+ percent)", report)
    assert re.search(r"The processor is \d+ percent busy on \d+ cores", report)
    assert re.search(r"Memory: [\d.]+ [KMGT]B of [\d.]+ [KMGT]B used", report)
    assert re.search(rf"Disk: [\d.]+ [KMGT]?B free of .* on the disk holding {tmp_path}", report)
    only = await tool.invoke({"part": "memory"})
    assert only.startswith("Memory:") and "Disk" not in only
    assert "Unknown part 'gpu'" in await tool.invoke({"part": "gpu"})


async def test_the_time_is_told_in_any_timezone() -> None:
    (tool,) = clock_tools(zone=lambda: ZoneInfo("Europe/Paris"))
    here = await tool.invoke({})
    assert "(Europe/Paris, UTC+0" in here
    tokyo = await tool.invoke({"timezone": "Asia/Tokyo"})
    assert tokyo.endswith("(Asia/Tokyo, UTC+09:00)")
    assert str(datetime.now(ZoneInfo("Asia/Tokyo")).year) in tokyo
    assert "(America/New_York" in await tool.invoke({"timezone": "America/New York"})
    with pytest.raises(ToolError, match="unknown timezone 'Mars/Olympus'"):
        await tool.invoke({"timezone": "Mars/Olympus"})


def test_moments_are_described_for_speech() -> None:
    assert describe_moment(datetime(2026, 7, 14, 9, 3, tzinfo=ZoneInfo("Europe/Paris"))) == (
        "Tuesday 14 July 2026, 09:03 (Europe/Paris, UTC+02:00)"
    )
    assert describe_moment(datetime(2026, 1, 1, 0, 0, tzinfo=ZoneInfo("UTC"))) == (
        "Thursday 1 January 2026, 00:00 (UTC+00:00)"
    )


def recorder(tmp_path: Path) -> tuple[Path, Path]:
    """A program that writes its arguments to a file: stands in for xdg-open and apps."""
    out = tmp_path / "launched.txt"
    script = tmp_path / "record.sh"
    script.write_text(f'#!/bin/sh\necho "$@" > {out}.part && mv {out}.part {out}\n')
    script.chmod(0o755)
    return script, out


def wait_for_file(path: Path, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return path.read_text().strip()


async def test_open_url_needs_confirmation_and_runs_the_opener(tmp_path: Path) -> None:
    script, out = recorder(tmp_path)
    tools = {t.name: t for t in launch_tools(opener=str(script), dirs=[])}
    open_url = tools["open_url"]
    assert open_url.confirm and tools["open_application"].confirm
    assert open_url.question({"url": "https://example.org"}) == "Open https://example.org?"
    assert (
        await open_url.invoke({"url": "https://example.org/a b"})
        == "Opened https://example.org/a b."
    )
    assert wait_for_file(out) == "https://example.org/a b"
    for bad in ("file:///etc/passwd", "javascript:alert(1)", "https://"):
        with pytest.raises(ToolError, match="only http and https"):
            await open_url.invoke({"url": bad})


async def test_open_application_finds_the_desktop_entry(tmp_path: Path) -> None:
    script, out = recorder(tmp_path)
    apps = tmp_path / "applications"
    apps.mkdir()
    (apps / "org.example.Pad.desktop").write_text(
        f"[Desktop Entry]\nType=Application\nName=Scratch Pad\nExec={script} --new-window %U\n"
    )
    (apps / "hidden.desktop").write_text(
        f"[Desktop Entry]\nType=Application\nName=Hidden\nNoDisplay=true\nExec={script}\n"
    )
    tools = {t.name: t for t in launch_tools(dirs=[tmp_path / "missing", apps])}
    assert await tools["open_application"].invoke({"name": "scratch pad"}) == "Started Scratch Pad."
    assert wait_for_file(out) == "--new-window"
    with pytest.raises(ToolError, match="no installed application is called 'Hidden'"):
        await tools["open_application"].invoke({"name": "Hidden"})
    assert exec_command('sh -c "echo 100%%" %f') == ["sh", "-c", "echo 100%"]


async def test_reminder_texts_and_timer_labels_have_a_length_cap(tmp_path: Path) -> None:
    store = TimerStore(tmp_path / "timers.sqlite3")
    try:
        tools = {t.name: t for t in timer_tools(TimerService(store, announce=None))}
        with pytest.raises(
            ToolError, match="the reminder text is 501 characters long; at most 500"
        ):
            await tools["set_reminder"].invoke({"text": "r" * 501, "in_minutes": 5.0})
        with pytest.raises(ToolError, match="the label is 101 characters long; at most 100"):
            await tools["set_timer"].invoke({"minutes": 5.0, "label": "t" * 101})
        assert store.pending() == []
        said = await tools["set_reminder"].invoke(
            {"text": " " + "r" * 500 + " ", "in_minutes": 5.0}
        )
        assert said.endswith("r" * 500 + ".")
        assert await tools["set_timer"].invoke({"minutes": 5.0, "label": "t" * 100})
        assert [len(t.label) for t in store.pending()] == [500, 100]
    finally:
        store.close()


async def test_at_most_two_hundred_timers_wait_at_once(tmp_path: Path) -> None:
    store = TimerStore(tmp_path / "timers.sqlite3")
    try:
        tools = {t.name: t for t in timer_tools(TimerService(store, announce=None))}
        for n in range(MAX_PENDING):
            store.add("timer", f"t{n}", store.clock() + 600)
        with pytest.raises(ToolError, match="200 timers and reminders are already waiting"):
            await tools["set_timer"].invoke({"minutes": 1.0})
        with pytest.raises(ToolError, match="cancel some first"):
            await tools["set_reminder"].invoke({"text": "tea", "in_minutes": 1.0})
        await tools["cancel_timer"].invoke({"timer_id": 1})
        assert (await tools["set_timer"].invoke({"minutes": 1.0})).startswith("Timer 201 set")
    finally:
        store.close()


async def test_what_the_tools_quote_back_from_the_model_stays_short() -> None:
    (clock,) = clock_tools()
    with pytest.raises(ToolError) as caught:
        await clock.invoke({"timezone": "Europe/" + "x" * 5000})
    assert len(str(caught.value)) < 200 and "unknown timezone" in str(caught.value)
    (status,) = system_tools()
    assert len(await status.invoke({"part": "gpu" * 5000})) < 200
