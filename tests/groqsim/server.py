"""GroqSim: a scriptable loopback Groq server on real sockets, recording every request."""

from __future__ import annotations

import copy
import selectors
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from .checks import ROUTE_NAMES
from .handler import SimHandler
from .models import (
    DEFAULT_DECOMMISSIONED,
    DEFAULT_MODELS,
    DEFAULT_RATELIMIT,
    DEFAULT_UPLOAD_LIMIT,
)
from .replies import (
    ChatReply,
    Endless,
    ErrorReply,
    Raw,
    Recorded,
    Speech,
    Stall,
    StreamFault,
    Transcript,
)

DEFAULT_API_KEY = "gsk_test"
STOP_JOIN_S = 0.8
REMAINING_REQUESTS = "x-ratelimit-remaining-requests"

_ALLOWED: dict[str, tuple[type, ...]] = {
    "chat": (ChatReply, ErrorReply, StreamFault, Stall, Raw, Endless),
    "transcriptions": (Transcript, ErrorReply, Stall, Raw, Endless),
    "translations": (Transcript, ErrorReply, Stall, Raw, Endless),
    "models": (list, ErrorReply, Stall, Raw, Endless),
    "speech": (Speech, ErrorReply, Stall, Raw, Endless),
}


class SimServer(ThreadingHTTPServer):
    """A threading HTTP server that tracks its connections so stop() can cut them."""

    daemon_threads = True
    request_queue_size = 512  # listen backlog: benchmarks open a hundred connections at once
    timeout = 0.0  # handle_request() is only called once the socket is readable

    def __init__(self, sim: GroqSim, host: str, port: int) -> None:
        self.sim = sim
        self._conn_lock = threading.Lock()
        self._conn_threads: set[threading.Thread] = set()
        self._sockets: set[socket.socket] = set()
        self.connection_count = 0
        super().__init__((host, port), SimHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._run_connection,
            args=(request, client_address),
            name=f"groqsim-conn-{client_address[1]}",
            daemon=True,
        )
        with self._conn_lock:
            self._conn_threads.add(thread)
            self._sockets.add(request)
            self.connection_count += 1
        thread.start()

    def _run_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._conn_lock:
                self._conn_threads.discard(threading.current_thread())
                self._sockets.discard(request)

    def serve_until(self, stopping: threading.Event, wake: socket.socket) -> None:
        """Accept connections until stopping is set (wake makes the set seen at once)."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while not stopping.is_set():
                for key, _ in selector.select(timeout=0.5):
                    if key.fileobj is self.socket and not stopping.is_set():
                        self.handle_request()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection errors are the client's business; anything else is a simulator bug."""
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, OSError):
            self.sim._add_error(exc)

    def abort_connections(self) -> None:
        """Shut every open connection so blocked handlers wake up and finish."""
        with self._conn_lock:
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join_connections(self, deadline: float) -> None:
        """Wait (until deadline) for the connection threads to end."""
        with self._conn_lock:
            threads = list(self._conn_threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class GroqSim:
    """A loopback Groq API; script replies with enqueue(), inspect traffic with requests."""

    def __init__(
        self, api_key: str | None = DEFAULT_API_KEY, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.api_key = api_key
        self.models: list[dict[str, Any]] = copy.deepcopy(list(DEFAULT_MODELS))
        self.decommissioned: set[str] = set(DEFAULT_DECOMMISSIONED)
        self.ratelimit: dict[str, str] = dict(DEFAULT_RATELIMIT)
        self.upload_limit: int = DEFAULT_UPLOAD_LIMIT
        self.strict_fields = True
        self.speech_default = Speech()
        """How a speech request is answered when no reply is queued for it."""
        self.transcriber: Callable[[bytes], Transcript] | None = None
        """How a transcription is answered when no reply is queued for it, from the uploaded
        file's bytes (a benchmark's transcripts of what was really said); None: a default."""
        self._host = host
        self._port = port
        self._lock = threading.Condition()
        self._queues: dict[str, deque[object]] = {route: deque() for route in ROUTE_NAMES}
        self._requests: list[Recorded] = []
        self._errors: list[BaseException] = []
        self._stopping = threading.Event()
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> GroqSim:
        """Bind and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("GroqSim is already running")
        self._stopping.clear()
        server = SimServer(self, self._host, self._port)
        wake_r, wake_w = socket.socketpair()
        thread = threading.Thread(
            target=server.serve_until, args=(self._stopping, wake_r), name="groqsim-serve"
        )
        thread.daemon = True
        thread.start()
        self._server, self._thread, self._wake = server, thread, (wake_r, wake_w)
        return self

    def stop(self) -> None:
        """Stop serving and cut every connection, stalled ones included; returns within ~1 s."""
        server, thread, wake = self._server, self._thread, self._wake
        if server is None or thread is None or wake is None:
            return
        deadline = time.monotonic() + STOP_JOIN_S
        self._stopping.set()
        wake_r, wake_w = wake
        try:
            wake_w.send(b"x")
        except OSError:
            pass
        thread.join(max(0.0, deadline - time.monotonic()))
        wake_r.close()
        wake_w.close()
        server.server_close()
        server.abort_connections()
        server.join_connections(deadline)
        self._server = self._thread = self._wake = None

    def __enter__(self) -> GroqSim:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None:
            raise RuntimeError("GroqSim is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Like GROQ_BASE_URL: http://127.0.0.1:<port>, without /openai/v1."""
        return f"http://{self._host}:{self.port}"

    @property
    def api_url(self) -> str:
        """base_url + /openai/v1."""
        return self.base_url + "/openai/v1"

    # -- scripting -----------------------------------------------------------------------

    def enqueue(self, route: str, *replies: object) -> None:
        """Queue replies for a route (FIFO); each request that passes the checks pops one."""
        allowed = _ALLOWED.get(route)
        if allowed is None:
            raise ValueError(f"unknown route {route!r}; one of {', '.join(ROUTE_NAMES)}")
        for reply in replies:
            if not isinstance(reply, allowed):
                names = ", ".join(t.__name__ for t in allowed)
                raise TypeError(f"{route} takes {names}, not {type(reply).__name__}")
        with self._lock:
            self._queues[route].extend(replies)

    def queued(self, route: str) -> int:
        """How many scripted replies are still waiting on a route."""
        with self._lock:
            return len(self._queues[route])

    # -- inspection ----------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """Every request received, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    def requests_for(self, route: str | None) -> list[Recorded]:
        """The requests of one route (None: the unknown URLs)."""
        return [r for r in self.requests if r.route == route]

    def wait_for(
        self, count: int, route: str | None = None, timeout: float = 5.0
    ) -> list[Recorded]:
        """Block until at least count requests (of route, if given) arrived; TimeoutError if not."""

        def matching() -> list[Recorded]:
            return [r for r in self._requests if route is None or r.route == route]

        with self._lock:
            if not self._lock.wait_for(lambda: len(matching()) >= count, timeout):
                raise TimeoutError(f"{len(matching())} of {count} requests arrived")
            return matching()

    @property
    def connection_count(self) -> int:
        """TCP connections accepted so far (since the last start)."""
        return self._server.connection_count if self._server is not None else 0

    @property
    def errors(self) -> list[BaseException]:
        """Unexpected exceptions inside the simulator (should stay empty)."""
        with self._lock:
            return list(self._errors)

    # -- used by the handler -------------------------------------------------------------

    def _record(self, rec: Recorded) -> int:
        with self._lock:
            self._requests.append(rec)
            self._lock.notify_all()
            return len(self._requests) - 1

    def _set_status(self, index: int, status: int) -> None:
        with self._lock:
            self._requests[index] = replace(self._requests[index], status=status)

    def _pop(self, route: str) -> object | None:
        with self._lock:
            queue = self._queues[route]
            return queue.popleft() if queue else None

    def _catalogue(self) -> tuple[list[dict[str, Any]], set[str]]:
        with self._lock:
            return copy.deepcopy(self.models), set(self.decommissioned)

    def _take_ratelimit(self) -> dict[str, str]:
        """The rate-limit headers for this response; remaining-requests then drops by one."""
        with self._lock:
            headers = dict(self.ratelimit)
            try:
                remaining = int(self.ratelimit[REMAINING_REQUESTS])
            except (KeyError, ValueError):
                return headers
            self.ratelimit[REMAINING_REQUESTS] = str(max(0, remaining - 1))
            return headers

    def _add_error(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)
