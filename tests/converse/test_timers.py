"""Timers and reminders persist in SQLite and are announced when due, restarts included."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from voiced.converse.tools.builtin.timer_tools import timer_tools
from voiced.converse.tools.builtin.timers import TimerService, describe_duration, parse_when
from voiced.converse.tools.builtin.timerstore import TimerStore
from voiced.converse.tools.registry import Tool, ToolError

PARIS = ZoneInfo("Europe/Paris")


class Voice:
    """An announce callback that keeps what it was told to say."""

    def __init__(self) -> None:
        self.said: list[str] = []
        self.heard = asyncio.Event()

    async def __call__(self, text: str) -> None:
        self.said.append(text)
        self.heard.set()

    async def next(self) -> str:
        async with asyncio.timeout(10):
            await self.heard.wait()
        self.heard.clear()
        return self.said[-1]


def tools_by_name(service: TimerService) -> dict[str, Tool]:
    return {t.name: t for t in timer_tools(service)}


@pytest.fixture
async def voice_service(tmp_path: Path) -> AsyncIterator[tuple[TimerService, Voice]]:
    voice = Voice()
    store = TimerStore(tmp_path / "timers.sqlite3")
    service = TimerService(store, voice, zone=lambda: PARIS, poll_s=0.2)
    await service.start()
    yield service, voice
    await service.aclose()
    store.close()


@pytest.mark.subprocess
async def test_a_timer_set_in_another_process_fires_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "timers.sqlite3"
    script = textwrap.dedent(
        f"""
        import asyncio
        from pathlib import Path
        from voiced.converse.tools.builtin.timerstore import TimerStore
        from voiced.converse.tools.builtin.timers import TimerService
        from voiced.converse.tools.builtin.timer_tools import timer_tools

        async def main():
            store = TimerStore(Path({str(db)!r}))
            service = TimerService(store, announce=None)
            set_timer = {{t.name: t for t in timer_tools(service)}}["set_timer"]
            print(await set_timer.invoke({{"seconds": 1.0, "label": "tea"}}))
            store.close()

        asyncio.run(main())
        """
    )
    made = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("Timer 1 for tea set for 1 second; it ends at ")

    voice = Voice()
    store = TimerStore(db)
    service = TimerService(store, voice, poll_s=5.0)
    begun = time.monotonic()
    await service.start()
    try:
        assert await voice.next() == "Your tea timer is done."
        assert time.monotonic() - begun < 5  # announced when due, not at the next poll
        assert await service.pending() == []
    finally:
        await service.aclose()
        store.close()

    again = Voice()
    store = TimerStore(db)
    service = TimerService(store, again, poll_s=0.1)
    await service.start()
    await asyncio.sleep(0.3)
    await service.aclose()
    store.close()
    assert again.said == []  # announced once, never again


async def test_a_timer_missed_while_stopped_says_when_it_was_due(tmp_path: Path) -> None:
    earlier = TimerStore(tmp_path / "timers.sqlite3", clock=lambda: time.time() - 1200)
    earlier.add("timer", "", time.time() - 600)
    earlier.add("reminder", "call the dentist", time.time() - 1)
    earlier.close()
    store = TimerStore(tmp_path / "timers.sqlite3")
    voice = Voice()
    service = TimerService(store, voice, zone=lambda: PARIS)
    await service.start()
    try:
        await voice.next()
        while len(voice.said) < 2:
            await voice.next()
    finally:
        await service.aclose()
        store.close()
    late, reminder = voice.said
    assert late.startswith("Your 10 minutes timer is done. It was due at ")
    assert late.endswith(", while I wasn't running.")
    assert reminder == "Reminder: call the dentist."


@pytest.mark.realtime
async def test_timers_are_listed_and_cancelled(voice_service: tuple[TimerService, Voice]) -> None:
    service, voice = voice_service
    tools = tools_by_name(service)
    await tools["set_timer"].invoke({"minutes": 5.0, "label": "pasta"})
    await tools["set_timer"].invoke({"seconds": 1.0})
    await tools["set_reminder"].invoke({"text": "stretch", "in_minutes": 90.0})
    listing = await tools["list_timers"].invoke({})
    assert "timer 1 (pasta)" in listing and "in 5 minutes" in listing
    assert "reminder 3: stretch" in listing and "in 1 hour and 30 minutes" in listing
    assert await tools["cancel_timer"].invoke({"label": "PASTA"}) == "Cancelled timer 1 (pasta)."
    assert await voice.next() == "Your 1 second timer is done."
    assert await tools["cancel_timer"].invoke({"timer_id": 3}) == "Cancelled reminder 3 (stretch)."
    assert await tools["list_timers"].invoke({}) == "There are no timers or reminders."
    with pytest.raises(ToolError, match="no pending timer or reminder number 1"):
        await tools["cancel_timer"].invoke({"timer_id": 1})
    assert voice.said == ["Your 1 second timer is done."]


async def test_a_timer_set_by_another_process_while_running_is_announced(
    voice_service: tuple[TimerService, Voice], tmp_path: Path
) -> None:
    service, voice = voice_service
    other = TimerStore(tmp_path / "timers.sqlite3")
    other.add("reminder", "water the plants", time.time() + 0.3)
    other.close()
    assert await voice.next() == "Reminder: water the plants."


async def test_bad_timers_are_refused(voice_service: tuple[TimerService, Voice]) -> None:
    tools = tools_by_name(voice_service[0])
    with pytest.raises(ToolError, match="more than 0 seconds"):
        await tools["set_timer"].invoke({})
    with pytest.raises(ToolError, match="exactly one of at or in_minutes"):
        await tools["set_reminder"].invoke({"text": "x"})
    with pytest.raises(ToolError, match="cannot read the time"):
        await tools["set_reminder"].invoke({"text": "x", "at": "teatime"})


def test_reminder_times_are_read_as_the_next_occurrence() -> None:
    now = datetime(2026, 3, 3, 14, 5, tzinfo=PARIS)
    assert parse_when("15:30", now) == datetime(2026, 3, 3, 15, 30, tzinfo=PARIS)
    assert parse_when("9:00", now) == datetime(2026, 3, 4, 9, 0, tzinfo=PARIS)
    assert parse_when("2:30 pm", now) == datetime(2026, 3, 3, 14, 30, tzinfo=PARIS)
    assert parse_when("12 am", now) == datetime(2026, 3, 4, 0, 0, tzinfo=PARIS)
    assert parse_when("2026-04-01 08:15", now) == datetime(2026, 4, 1, 8, 15, tzinfo=PARIS)
    with pytest.raises(ToolError):
        parse_when("25:00", now)


def test_durations_are_said_the_way_people_say_them() -> None:
    assert describe_duration(90) == "1 minute and 30 seconds"
    assert describe_duration(3600 + 300) == "1 hour and 5 minutes"
    assert describe_duration(2 * 86400 + 3661) == "2 days, 1 hour, 1 minute and 1 second"
    assert describe_duration(0.2) == "less than a second"
    assert describe_duration(0) == "0 seconds"


def _status(db: Path, timer_id: int) -> str:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return str(
            conn.execute("SELECT status FROM timers WHERE id = ?", (timer_id,)).fetchone()[0]
        )


async def _until_status(db: Path, timer_id: int, wanted: str) -> None:
    """Wait (at most 10 s) until another task or process has written ``wanted``."""
    for _ in range(200):
        if await asyncio.to_thread(_status, db, timer_id) == wanted:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timer {timer_id} never became {wanted}")


async def test_a_timer_is_marked_announced_only_once_it_was_said(tmp_path: Path) -> None:
    db = tmp_path / "timers.sqlite3"
    store = TimerStore(db)
    seen: list[str] = []

    async def speak(text: str) -> None:
        seen.append(await asyncio.to_thread(_status, db, 1))  # while it is being said
        await asyncio.sleep(0.2)

    timer = store.add("timer", "tea", time.time() - 1)
    service = TimerService(store, speak, poll_s=0.1)
    await service.start()
    try:
        await _until_status(db, timer.id, "announced")
    finally:
        await service.aclose()
        store.close()
    assert seen == ["announcing"]


@pytest.mark.subprocess
async def test_a_timer_whose_process_died_while_announcing_it_is_announced_after_restart(
    tmp_path: Path,
) -> None:
    db = tmp_path / "timers.sqlite3"
    script = textwrap.dedent(
        f"""
        import asyncio, os, time
        from pathlib import Path
        from voiced.converse.tools.builtin.timerstore import TimerStore
        from voiced.converse.tools.builtin.timers import TimerService

        async def dies_while_speaking(text):
            os._exit(9)  # killed mid-sentence: the timer was never heard

        async def main():
            store = TimerStore(Path({str(db)!r}))
            store.add("timer", "tea", time.time() - 1)
            service = TimerService(store, dies_while_speaking)
            await service.start()
            await asyncio.sleep(10)

        asyncio.run(main())
        """
    )
    died = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert died.returncode == 9, died.stderr

    voice = Voice()
    store = TimerStore(db)
    service = TimerService(store, voice, poll_s=5.0)
    await service.start()
    try:
        assert await voice.next() == "Your tea timer is done."
        await _until_status(db, 1, "announced")
    finally:
        await service.aclose()
        store.close()


def test_a_claim_in_this_processs_own_pid_is_stale_when_it_starts(tmp_path: Path) -> None:
    store = TimerStore(tmp_path / "timers.sqlite3")
    timer = store.add("timer", "", time.time() - 1)
    assert store.claim(timer.id)
    assert store.recover() == 0  # claimed by a live process (this one): kept
    assert store.recover(starting=True) == 1  # a restarted process with a reused pid
    assert [t.id for t in store.pending()] == [timer.id]
    store.close()


async def test_a_failed_announcement_is_tried_again(tmp_path: Path) -> None:
    store = TimerStore(tmp_path / "timers.sqlite3")
    store.add("reminder", "stretch", time.time() - 1)
    voice = Voice()
    attempts = 0

    async def flaky(text: str) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("the speaker went away")
        await voice(text)

    service = TimerService(store, flaky, poll_s=0.1)
    await service.start()
    try:
        assert await voice.next() == "Reminder: stretch."
    finally:
        await service.aclose()
        store.close()
    assert attempts == 2


def test_a_timers_file_from_before_claims_is_upgraded_in_place(tmp_path: Path) -> None:
    db = tmp_path / "timers.sqlite3"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.executescript(
            "CREATE TABLE timers (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, label TEXT NOT "
            "NULL DEFAULT '', due_at REAL NOT NULL, created_at REAL NOT NULL, status TEXT NOT "
            "NULL DEFAULT 'pending', announced_at REAL);"
            "INSERT INTO timers (kind, label, due_at, created_at) VALUES ('timer', 'old', 1, 0);"
            "PRAGMA user_version = 1;"
        )
    store = TimerStore(db)
    assert [t.label for t in store.pending()] == ["old"]
    assert store.claim(1)
    store.announced(1)
    assert store.pending() == []
    store.close()
    assert _status(db, 1) == "announced"
