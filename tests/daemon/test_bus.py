"""The event bus: bounded queues, levels dropped first, slow subscribers cut off, never waiting."""

from __future__ import annotations

import asyncio

from voiced.daemon.bus import EventBus
from voiced.protocol import AssistantDelta, Event, InputLevel


def level(i: int) -> InputLevel:
    return InputLevel(rms_db=-float(i), floor_db=-70.0, voiced=False)


def delta(i: int) -> AssistantDelta:
    return AssistantDelta(turn=1, text=str(i))


async def drain(sub_events: list[Event], sub: object) -> None:
    async for event in sub:  # type: ignore[attr-defined]
        sub_events.append(event)


async def test_every_subscriber_gets_every_event_in_order() -> None:
    bus = EventBus()
    a, b = bus.subscribe("a"), bus.subscribe("b")
    events = [delta(i) for i in range(20)]
    for event in events:
        bus.publish(event)
    bus.close()
    got_a: list[Event] = []
    got_b: list[Event] = []
    await asyncio.gather(drain(got_a, a), drain(got_b, b))
    assert got_a == events and got_b == events


async def test_a_full_queue_drops_level_events_before_anything_else() -> None:
    bus = EventBus()
    sub = bus.subscribe("slow", maxsize=10)
    for i in range(6):
        bus.publish(level(i))
    for i in range(8):
        bus.publish(delta(i))
    assert len(sub) == 10 and not sub.overflowed
    kept: list[Event] = []
    bus.close()
    await drain(kept, sub)
    assert [e for e in kept if isinstance(e, AssistantDelta)] == [delta(i) for i in range(8)]
    assert [e for e in kept if isinstance(e, InputLevel)] == [level(4), level(5)]
    assert sub.dropped_levels == 4


async def test_new_levels_are_dropped_when_the_queue_is_full() -> None:
    bus = EventBus()
    sub = bus.subscribe("slow", maxsize=3)
    for i in range(3):
        bus.publish(delta(i))
    bus.publish(level(0))
    assert len(sub) == 3 and sub.dropped_levels == 1 and not sub.overflowed


async def test_a_subscriber_full_of_real_events_is_cut_off_and_the_others_go_on() -> None:
    bus = EventBus()
    cut: list[str] = []
    slow = bus.subscribe("slow", maxsize=5, on_overflow=lambda: cut.append("slow"))
    fast = bus.subscribe("fast", maxsize=100)
    for i in range(6):
        bus.publish(delta(i))
    assert slow.overflowed and slow.closed and cut == ["slow"]
    assert await slow.get() is None
    assert bus.subscribers == 1
    for i in range(6, 10):
        bus.publish(delta(i))
    assert len(fast) == 10


async def test_a_failing_listener_is_logged_and_does_not_stop_delivery() -> None:
    bus = EventBus()
    seen: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("listener bug")

    bus.listen(broken)
    bus.listen(seen.append)
    sub = bus.subscribe("a")
    bus.publish(delta(1))
    assert seen == [delta(1)] and len(sub) == 1
