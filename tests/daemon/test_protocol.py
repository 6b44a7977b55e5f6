"""The wire protocol: every message survives a round trip; bad lines fail with clear errors."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from typing import Any, Literal

import orjson
import pytest

from voiced.errors import ProtocolError
from voiced.protocol import (
    COMMAND_TYPES,
    EVENT_TYPES,
    History,
    HistoryEntry,
    InputLevel,
    PushToTalk,
    StateChanged,
    Timeline,
    TurnWithdrawn,
    decode_command,
    decode_event,
    encode,
)
from voiced.protocol.wire import MAX_COMMAND_BYTES


def sample(cls: type[Any]) -> Any:
    """An instance of ``cls`` with a non-default value in every field."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        values[f.name] = _value(hints[f.name], f.name)
    return cls(**values)


def _value(tp: Any, name: str) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    origin = typing.get_origin(tp)
    if origin is Literal:
        return typing.get_args(tp)[-1]
    if origin is tuple:
        return (_value(typing.get_args(tp)[0], name), _value(typing.get_args(tp)[0], name))
    if dataclasses.is_dataclass(tp):
        return sample(tp)
    return {str: f"{name}-é✓", int: 7, float: 2.5, bool: True}[tp]


@pytest.mark.parametrize("cls", sorted(EVENT_TYPES.values(), key=lambda c: c.type))
def test_every_event_round_trips_through_one_json_line(cls: type[Any]) -> None:
    event = sample(cls)
    line = encode(event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert orjson.loads(line)["type"] == cls.type
    assert decode_event(line) == event


@pytest.mark.parametrize("cls", sorted(COMMAND_TYPES.values(), key=lambda c: c.type))
def test_every_command_round_trips_through_one_json_line(cls: type[Any]) -> None:
    command = sample(cls)
    assert decode_command(encode(command)) == command


def test_nested_history_entries_are_rebuilt_as_dataclasses() -> None:
    history = History(entries=(HistoryEntry(turn=1, role="user", text="what time is it"),))
    decoded = decode_event(encode(history))
    assert isinstance(decoded, History)
    assert isinstance(decoded.entries[0], HistoryEntry)
    assert decoded.entries[0].text == "what time is it"


def test_a_withdrawn_turn_is_one_line_naming_the_turn_and_why() -> None:
    line = b'{"type":"turn_withdrawn","turn":4,"reason":"speaker_went_on"}'
    assert decode_event(line) == TurnWithdrawn(turn=4)
    assert decode_event(encode(TurnWithdrawn(turn=4))) == TurnWithdrawn(turn=4)
    assert orjson.loads(encode(TurnWithdrawn(turn=4))) == orjson.loads(line)
    with pytest.raises(ProtocolError, match="turn"):
        decode_event(b'{"type":"turn_withdrawn","reason":"speaker_went_on"}')


def test_unknown_fields_are_ignored_so_fields_can_be_added() -> None:
    line = b'{"type":"state","state":"hearing","added_later":[1,2]}'
    assert decode_event(line) == StateChanged(state="hearing")


def test_ints_are_accepted_where_a_float_is_expected() -> None:
    event = decode_event(b'{"type":"level","rms_db":-40,"floor_db":-70,"voiced":false}')
    assert event == InputLevel(rms_db=-40.0, floor_db=-70.0, voiced=False)
    assert isinstance(event, InputLevel) and isinstance(event.rms_db, float)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "one JSON object"),
        (b'{"state": "hearing"}', "no string 'type'"),
        (b'{"type": "teleport"}', "unknown command type 'teleport'"),
        (b'{"type": "ptt"}', "'action' is missing"),
        (b'{"type": "ptt", "action": "hold"}', "ptt.action: expected one of 'start'"),
        (b'{"type": "text", "text": 5}', "text.text: expected a string, got an integer"),
        (b'{"type": "confirm", "approve": "yes"}', "expected true or false"),
        (b'{"type": "confirm", "approve": 1}', "expected true or false"),
    ],
)
def test_malformed_commands_raise_protocol_errors_naming_the_problem(
    line: bytes, message: str
) -> None:
    with pytest.raises(ProtocolError, match=re.escape(message)):
        decode_command(line)


def test_a_bool_is_not_taken_for_an_integer() -> None:
    line = b'{"type":"timeline","turn":true,"speculative":true}'
    with pytest.raises(ProtocolError, match="timeline.turn: expected an integer"):
        decode_event(line)


def test_nested_entries_are_validated_too() -> None:
    line = b'{"type":"history","entries":[{"turn":1,"role":"robot","text":"x"}]}'
    with pytest.raises(ProtocolError, match=r"history.entries\[0\].role"):
        decode_event(line)


def test_a_command_line_over_the_limit_is_refused_before_parsing() -> None:
    big = encode(PushToTalk(action="start", id="x" * MAX_COMMAND_BYTES))
    with pytest.raises(ProtocolError, match="over the"):
        decode_command(big)


def test_from_dict_refuses_a_message_of_another_type() -> None:
    with pytest.raises(ProtocolError, match="expected a 'timeline' message"):
        Timeline.from_dict({"type": "state", "state": "hearing"})


def test_the_replay_timestamp_goes_beside_the_event_fields() -> None:
    line = encode(StateChanged(state="thinking", previous="transcribing"), t=1.25)
    data = orjson.loads(line)
    assert data["t"] == 1.25 and data["type"] == "state"
    assert decode_event(line) == StateChanged(state="thinking", previous="transcribing")


def test_an_over_long_event_is_cut_to_the_limit_with_a_note_of_what_was_cut() -> None:
    from voiced.protocol import AssistantText
    from voiced.protocol.wire import MAX_EVENT_BYTES

    text = "é✓ \x01" * 200_000  # multi-byte and escaped characters: bytes, not characters
    line = encode(AssistantText(turn=3, text=text, interrupted=True))
    assert len(line) <= MAX_EVENT_BYTES
    event = decode_event(line)
    assert isinstance(event, AssistantText) and event.turn == 3 and event.interrupted
    head, note = event.text.rsplit("…", 1)
    assert text.startswith(head) and len(line) > MAX_EVENT_BYTES - 64
    assert note == f" [truncated {len(text) - len(head):,} characters]"


def test_unencodable_values_are_replaced_not_refused() -> None:
    from voiced.protocol import ErrorReport

    event = ErrorReport(code="x\udcff", message="bad \ud800 pair \ud83d\ude00", turn=10**30)
    decoded = decode_event(encode(event))
    assert isinstance(decoded, ErrorReport)
    assert decoded.code == "x\ufffd" and decoded.message == "bad \ufffd pair \ufffd\ufffd"
    assert decoded.turn == 2**64 - 1


def test_commands_are_never_cut() -> None:
    from voiced.protocol import SendText

    text = "a" * (MAX_COMMAND_BYTES * 8)
    assert orjson.loads(encode(SendText(text=text)))["text"] == text
