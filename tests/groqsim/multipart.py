"""A strict, byte-exact multipart/form-data parser for the Groq simulator (stdlib only)."""

from __future__ import annotations

from email.message import Message


class MultipartError(ValueError):
    """The body is not well-formed multipart/form-data."""


def header_params(name: str, value: str) -> Message:
    """A Message holding one header, so its parameters can be read with get_param."""
    msg = Message()
    msg[name] = value
    return msg


def parse_multipart(
    body: bytes, content_type: str
) -> tuple[dict[str, list[str]], dict[str, tuple[str, str, bytes]]]:
    """Split a form into its text fields (repeats kept) and its files (name, type, bytes)."""
    boundary = header_params("content-type", content_type).get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise MultipartError("multipart body without a boundary")
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    pieces = (b"\r\n" + body).split(delimiter)
    if len(pieces) < 3:
        raise MultipartError("multipart body without parts")
    form: dict[str, list[str]] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    closed = False
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            closed = True
            break
        line_end = piece.find(b"\r\n")
        if line_end < 0:
            raise MultipartError("truncated part")
        head, sep, data = piece[line_end + 2 :].partition(b"\r\n\r\n")
        if not sep:
            raise MultipartError("part without a header block")
        headers = _part_headers(head)
        disposition = header_params("content-disposition", headers.get("content-disposition", ""))
        name = disposition.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise MultipartError("part without a name")
        filename = disposition.get_filename()
        if filename is None:
            form.setdefault(name, []).append(data.decode("utf-8", errors="replace"))
        else:
            ctype = headers.get("content-type", "application/octet-stream")
            files[name] = (filename, ctype, data)
    if not closed:
        raise MultipartError("multipart body without its closing delimiter")
    return form, files


def _part_headers(head: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in head.split(b"\r\n"):
        if not line:
            continue
        name, colon, value = line.decode("utf-8", errors="replace").partition(":")
        if not colon:
            raise MultipartError(f"bad part header line: {line!r}")
        headers[name.strip().lower()] = value.strip()
    return headers
