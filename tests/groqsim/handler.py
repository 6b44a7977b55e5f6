"""The HTTP handler of the Groq simulator: one keep-alive connection, many requests."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import checks, wire
from .multipart import MultipartError, parse_multipart
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
from .voice import speech_wav

if TYPE_CHECKING:
    from .server import GroqSim, SimServer

POLL_S = 0.02
SPEECH_PIECE = 4096
"""Bytes of audio per chunk of a speech response."""
DEFAULT_CHAT = ChatReply(content="Hello from groqsim.")
DEFAULT_TRANSCRIPT = Transcript(text="hello world")


class Aborted(Exception):
    """The client went away or the simulator is stopping: drop the connection."""


class SimHandler(BaseHTTPRequestHandler):
    """Serves Groq's routes from the simulator's scripts; never lets an exception escape."""

    protocol_version = "HTTP/1.1"
    server_version = "groqsim/1.0"
    sys_version = ""
    server: SimServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log lines."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    @property
    def sim(self) -> GroqSim:
        return self.server.sim

    # -- one request ---------------------------------------------------------------------

    def _serve(self) -> None:
        self._arrived = time.monotonic()
        try:
            body = self._read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        self._req_id = wire.request_id()
        self._ratelimit = self.sim._take_ratelimit()
        self._body = body
        path = urlsplit(self.path).path
        route, model_id = checks.match_route(self.command, path)
        self._headers = _lower_headers(self.headers.items())
        self._content_type = self._headers.get("content-type", "")
        self._json: Any = None
        if "json" in self._content_type.lower():
            try:
                self._json = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                self._json = None
        self._form: dict[str, list[str]] = {}
        self._files: dict[str, tuple[str, str, bytes]] = {}
        self._multipart_error: str | None = None
        if self._content_type.lower().startswith("multipart/form-data"):
            try:
                self._form, self._files = parse_multipart(body, self._content_type)
            except MultipartError as exc:
                self._multipart_error = str(exc)
        self._record_index = self.sim._record(
            Recorded(
                route=route,
                method=self.command,
                path=self.path,
                headers=self._headers,
                body=body,
                json=self._json,
                form=self._form,
                files=self._files,
                received_at=self._arrived,
                client_port=int(self.client_address[1]),
            )
        )
        try:
            self._respond(route, model_id, path)
        except (Aborted, OSError):
            self.close_connection = True

    def _set_status(self, status: int) -> None:
        self.sim._set_status(self._record_index, status)

    def _respond(self, route: str | None, model_id: str | None, path: str) -> None:
        sim = self.sim
        models, decommissioned = sim._catalogue()
        request: dict[str, Any] = {}
        error = checks.check_auth(self._headers.get("authorization"), sim.api_key)
        if error is None and route is None:
            error = checks.unknown_url(self.command, path)
        elif error is None and route == "chat":
            error, request = checks.check_chat(
                self._body, sim.strict_fields, models, decommissioned
            )
        elif error is None and route == "speech":
            error, request = checks.check_speech(
                self._body, sim.strict_fields, models, decommissioned
            )
        elif error is None and route in ("transcriptions", "translations"):
            error = checks.check_audio(
                route,
                self._content_type,
                self._form,
                self._files,
                self._multipart_error,
                sim.upload_limit,
                models,
                decommissioned,
            )
        elif error is None and model_id is not None:
            if model_id not in checks.model_ids(models):
                error = ErrorReply.model_not_found(model_id)
        if error is not None or route is None:
            self._send_error(error or checks.unknown_url(self.command, path))
            return
        reply = sim._pop(route)
        if isinstance(reply, Stall):
            self._stall(reply.seconds)
        elif isinstance(reply, ErrorReply):
            self._send_error(reply)
        elif isinstance(reply, Raw):
            self._send(reply.status, reply.body, reply.content_type, reply.headers)
        elif isinstance(reply, Endless):
            self._endless(reply)
        elif route == "chat":
            self._chat(request, DEFAULT_CHAT if reply is None else reply)
        elif route == "models":
            self._models(reply if isinstance(reply, list) else models, model_id)
        elif route == "speech":
            self._speech(request, sim.speech_default if reply is None else reply)
        else:
            if reply is None and sim.transcriber is not None:
                upload = self._files.get("file")
                reply = sim.transcriber(upload[2] if upload else b"")
            self._audio(route, DEFAULT_TRANSCRIPT if reply is None else reply)

    # -- routes --------------------------------------------------------------------------

    def _chat(self, request: dict[str, Any], reply: object) -> None:
        render = wire.ChatRender(
            model=str(request["model"]),
            req_id=self._req_id,
            prompt_tokens=max(1, len(self._body) // 4),
        )
        if isinstance(reply, StreamFault):
            self._stream(render, reply.reply, reply)
            return
        assert isinstance(reply, ChatReply)
        if request.get("stream") is True:
            self._stream(render, reply, None)
            return
        generation = 0.0
        if reply.tokens_per_s:
            generation = wire.completion_tokens(reply) / reply.tokens_per_s
        self._pause_until(self._arrived + reply.ttft + generation)
        self._send_json(200, render.completion(reply), reply.headers)

    def _stream(self, render: wire.ChatRender, reply: ChatReply, fault: StreamFault | None) -> None:
        self._set_status(200)
        self._start_stream(reply.headers)
        self._chunk(wire.sse(render.first_chunk()))
        deltas = wire.chat_deltas(reply)
        interval = 1.0 / reply.tokens_per_s if reply.tokens_per_s else 0.0
        base = self._arrived + reply.ttft
        sent = 0

        def send_upto(limit: int) -> None:
            nonlocal sent
            while sent < min(limit, len(deltas)):
                self._pause_until(base + sent * interval)
                self._chunk(wire.sse(render.chunk(deltas[sent])))
                sent += 1

        send_upto(fault.after if fault is not None else len(deltas))
        if fault is not None:
            if fault.kind in ("error_event", "error_data"):
                error = fault.error.error_object(self._headers.get("authorization"))
                payload = wire.error_event(error, fault.error.status)
                event = "error" if fault.kind == "error_event" else None
                self._chunk(wire.sse(payload, event=event))
                self._end_chunks()
                return
            if fault.kind == "drop":
                self._drop()
                return
            if fault.kind == "keepalive":
                self._keep_alive(fault.interval)
                return
            if fault.kind == "malformed":
                self._chunk(b'data: {"id": "chatcmpl-x", "choices": [\n\n')
            elif fault.kind == "stall":
                self._pause_until(time.monotonic() + fault.stall_s)
                base = time.monotonic() - sent * interval
            send_upto(len(deltas))
        self._pause_until(base)
        self._chunk(wire.sse(render.last_chunk(reply)))
        self._chunk(wire.sse("[DONE]"))
        self._end_chunks()

    def _audio(self, route: str, reply: object) -> None:
        assert isinstance(reply, Transcript)
        transcript = reply
        upload = self._files.get("file")
        duration = transcript.duration
        if duration is None:
            duration = (wire.wav_duration(upload[2]) if upload else None) or 1.0
        self._pause_until(self._arrived + transcript.delay)
        fmt = checks.first(self._form, "response_format") or "json"
        text = wire.transcript_text(transcript)
        if fmt == "text":
            body = text.encode("utf-8")
            self._send(200, body, "text/plain; charset=utf-8", transcript.headers)
        elif fmt == "verbose_json":
            task = "translate" if route == "translations" else "transcribe"
            grains = checks.granularities(self._form)
            obj = wire.verbose_json(transcript, task, duration, grains, self._req_id)
            self._send_json(200, obj, transcript.headers)
        else:
            self._send_json(200, {"text": text, "x_groq": {"id": self._req_id}}, transcript.headers)

    def _speech(self, request: dict[str, Any], reply: object) -> None:
        """The text said by espeak-ng as WAV: the first byte after ``ttfb``, the rest paced."""
        assert isinstance(reply, Speech)
        body = speech_wav(str(request["input"]), str(request["voice"]), reply.rate)
        self._set_status(200)
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Transfer-Encoding", "chunked")
        self._send_common_headers(reply.headers)
        if reply.headers_first:
            self.end_headers()
        self._pause_until(self._arrived + reply.ttfb)
        if not reply.headers_first:
            self.end_headers()
        started = time.monotonic()
        per_second = reply.rate * 2 * reply.realtime if reply.realtime else None
        limit = len(body) if reply.drop_after is None else min(reply.drop_after, len(body))
        sent = 0
        while sent < limit:
            if per_second is not None and sent:
                self._pause_until(started + sent / per_second)
            piece = body[sent : min(limit, sent + SPEECH_PIECE)]
            self._chunk(piece)
            sent += len(piece)
        if reply.drop_after is not None:
            self._drop()
            return
        self._end_chunks()

    def _models(self, models: list[dict[str, Any]], model_id: str | None) -> None:
        if model_id is None:
            self._send_json(200, {"object": "list", "data": models}, {})
            return
        found = [m for m in models if m.get("id") == model_id]
        if not found:
            found = [m for m in self.sim._catalogue()[0] if m.get("id") == model_id]
        self._send_json(200, found[0], {})

    # -- faults --------------------------------------------------------------------------

    def _stall(self, seconds: float) -> None:
        """Send nothing for `seconds` (or until stop / the client leaves), then hang up."""
        self.close_connection = True
        try:
            self._pause_until(time.monotonic() + seconds)
        except Aborted:
            pass

    def _keep_alive(self, interval: float) -> None:
        """Send an SSE comment every `interval` s until the client leaves or the sim stops."""
        self.close_connection = True
        try:
            while True:
                self._pause_until(time.monotonic() + interval)
                self._chunk(b": keep-alive\n\n")
        except Aborted:
            pass

    def _endless(self, reply: Endless) -> None:
        """Send reply.prefix, then reply.piece every reply.interval s, until the client leaves."""
        self.close_connection = True
        self._set_status(reply.status)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self._send_common_headers(reply.headers)
        self.end_headers()
        try:
            if reply.prefix:
                self._chunk(reply.prefix)
            while True:
                self._pause_until(time.monotonic() + reply.interval)
                self._chunk(reply.piece)
        except Aborted:
            pass

    def _drop(self) -> None:
        """Hang up mid-body: no terminating chunk."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _pause_until(self, deadline: float) -> None:
        """Wait until deadline; raise Aborted as soon as the sim stops or the client leaves."""
        stopping = self.sim._stopping
        while True:
            if stopping.is_set():
                raise Aborted
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            slice_s = min(remaining, POLL_S)
            readable, _, _ = select.select([self.connection], [], [], slice_s)
            if readable:
                try:
                    peek = self.connection.recv(1, socket.MSG_PEEK)
                except OSError as exc:
                    raise Aborted from exc
                if not peek:
                    raise Aborted
                stopping.wait(slice_s)  # a pipelined request is waiting: do not spin

    # -- writing -------------------------------------------------------------------------

    def _send_error(self, error: ErrorReply) -> None:
        self._send_json(error.status, error.body(self._headers.get("authorization")), error.headers)

    def _send_json(self, status: int, obj: object, headers: Mapping[str, str]) -> None:
        self._send(status, wire.dumps(obj), "application/json", headers)

    def _send(
        self, status: int, body: bytes, content_type: str, headers: Mapping[str, str]
    ) -> None:
        self._set_status(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self._send_common_headers(headers)
        self.end_headers()
        self.wfile.write(body)

    def _start_stream(self, headers: Mapping[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self._send_common_headers(headers)
        self.end_headers()

    def _send_common_headers(self, scripted: Mapping[str, str]) -> None:
        merged = {"x-request-id": self._req_id, **self._ratelimit}
        merged.update({k.lower(): v for k, v in scripted.items()})
        for name, value in merged.items():
            self.send_header(name, value)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")

    # -- reading -------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        size = int(length)
        if size < 0:
            raise ValueError("negative Content-Length")
        data = self.rfile.read(size)
        if len(data) < size:
            raise ConnectionError("request body cut short")
        return data

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            line = self.rfile.readline(65537)
            if not line:
                raise ConnectionError("chunked request body cut short")
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            data = self.rfile.read(size + 2)
            if len(data) < size + 2:
                raise ConnectionError("chunked request body cut short")
            parts.append(data[:size])


def _lower_headers(items: list[tuple[str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers
