"""The event bus: every event to every subscriber, through bounded queues that never block.

A subscriber that falls behind loses input-level events first (they are stale at once); if
its queue is still full of other events it is cut off, so one stuck client can never stall
the daemon or the other clients. Publish from the event loop's thread only.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable

from voiced.protocol.events import Event, InputLevel

log = logging.getLogger(__name__)

DEFAULT_QUEUE = 512
"""Events a subscriber may have waiting before levels are dropped and then it is cut off."""

Listener = Callable[[Event], None]


class Subscription:
    """One subscriber's queue. Iterate it, or ``await get()``, for its events.

    Args:
        maxsize: Events that may wait before the overflow policy applies.
        name: Names the subscriber in logs.
        on_overflow: Called once when the subscriber is cut off for being too slow.
    """

    def __init__(
        self, maxsize: int, name: str = "", on_overflow: Callable[[], None] | None = None
    ) -> None:
        self.maxsize, self.name = maxsize, name
        self.dropped_levels = 0
        self.overflowed = False
        self.closed = False
        self._items: deque[Event] = deque()
        self._levels = 0
        self._ready = asyncio.Event()
        self._on_overflow = on_overflow

    def __len__(self) -> int:
        return len(self._items)

    def offer(self, event: Event) -> None:
        """Queue ``event`` without ever waiting; apply the overflow policy when full."""
        if self.closed:
            return
        is_level = isinstance(event, InputLevel)
        if len(self._items) >= self.maxsize:
            if is_level:
                self.dropped_levels += 1
                return
            if not self._drop_oldest_level():
                self._overflow()
                return
        self._items.append(event)
        self._levels += is_level
        self._ready.set()

    async def get(self) -> Event | None:
        """Return the next event, waiting for one; None once the subscription is closed."""
        while not self._items:
            if self.closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed:
            return None
        event = self._items.popleft()
        self._levels -= isinstance(event, InputLevel)
        return event

    async def __aiter__(self) -> AsyncIterator[Event]:
        while (event := await self.get()) is not None:
            yield event

    def close(self) -> None:
        """End the subscription; waiting readers get None once the queue is empty."""
        self.closed = True
        self._ready.set()

    def _drop_oldest_level(self) -> bool:
        if not self._levels:
            return False
        for i, queued in enumerate(self._items):
            if isinstance(queued, InputLevel):
                del self._items[i]
                self._levels -= 1
                self.dropped_levels += 1
                return True
        return False

    def _overflow(self) -> None:
        log.warning(
            "subscriber %s is too slow: %d events waiting, cut off", self.name, self.maxsize
        )
        self.overflowed = True
        self._items.clear()
        self.close()
        if self._on_overflow is not None:
            self._on_overflow()


class EventBus:
    """Fans each published event out to subscriptions and plain listeners.

    Args:
        maxsize: The default queue bound of a subscription.
    """

    def __init__(self, maxsize: int = DEFAULT_QUEUE) -> None:
        self.maxsize = maxsize
        self._subscriptions: list[Subscription] = []
        self._listeners: list[Listener] = []

    @property
    def subscribers(self) -> int:
        """How many subscriptions are open."""
        return len(self._subscriptions)

    def subscribe(
        self,
        name: str = "",
        maxsize: int | None = None,
        on_overflow: Callable[[], None] | None = None,
    ) -> Subscription:
        """Open a subscription that receives every event published from now on."""
        sub = Subscription(maxsize or self.maxsize, name, on_overflow)
        self._subscriptions.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Close and forget a subscription."""
        sub.close()
        if sub in self._subscriptions:
            self._subscriptions.remove(sub)

    def listen(self, listener: Listener) -> None:
        """Call ``listener`` synchronously with every event (it must be quick and not raise)."""
        self._listeners.append(listener)

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every listener and subscription; never waits."""
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event listener %r failed on %s", listener, event.type)
        for sub in list(self._subscriptions):
            sub.offer(event)
            if sub.closed:
                self._subscriptions.remove(sub)

    def close(self) -> None:
        """Close every subscription (at shutdown)."""
        for sub in self._subscriptions:
            sub.close()
        self._subscriptions.clear()
