"""Chat completions against the loopback Groq server: replies, streams, tools, stream faults."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SleepRecorder, make_client
from tests.groqsim import ChatReply, GroqSim, StreamFault, ToolCall
from tests.schemas import validate_chat_request
from voiced.errors import BadRequestError, ConnectionFailedError, StreamError
from voiced.groq import ChatRequest, GroqClient, Message
from voiced.groq.models import ChatCompletion, ChatDelta
from voiced.groq.models import ToolCall as Call

QUESTION = (Message.user("What is the capital of Peru?"),)
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture(autouse=True)
def every_request_body_is_documented(groqsim: GroqSim):  # type: ignore[no-untyped-def]
    """After each test: every chat body the client sent validates against Groq's schema."""
    yield
    for recorded in groqsim.requests_for("chat"):
        validate_chat_request(recorded.json)


def request(**fields: object) -> ChatRequest:
    return ChatRequest(model="openai/gpt-oss-20b", messages=QUESTION, **fields)  # type: ignore[arg-type]


async def collect(client: GroqClient, req: ChatRequest) -> tuple[list[ChatDelta], ChatCompletion]:
    deltas = []
    async with client.stream_chat(req) as stream:
        async for delta in stream:
            deltas.append(delta)
    return deltas, stream.completion


async def test_non_streaming_reply(groqsim: GroqSim, client: GroqClient) -> None:
    groqsim.enqueue("chat", ChatReply(content="Lima is the capital of Peru."))
    reply = await client.chat(request())
    assert reply.content == "Lima is the capital of Peru."
    assert reply.finish_reason == "stop"
    assert reply.tool_calls == ()
    assert reply.usage is not None and reply.usage.completion_tokens == 6
    assert reply.request_id is not None and reply.request_id.startswith("req_")
    sent = groqsim.requests_for("chat")[0]
    assert sent.json["messages"] == [{"role": "user", "content": "What is the capital of Peru?"}]
    assert "stream" not in sent.json
    assert sent.headers["authorization"] == f"Bearer {groqsim.api_key}"


async def test_streamed_reply_arrives_in_pieces(groqsim: GroqSim, client: GroqClient) -> None:
    groqsim.enqueue("chat", ChatReply(content="Lima is the capital of Peru."))
    deltas, reply = await collect(client, request())
    assert [d.content for d in deltas] == ["Lima", " is", " the", " capital", " of", " Peru."]
    assert reply.content == "Lima is the capital of Peru."
    assert reply.finish_reason == "stop"
    assert reply.usage is not None and reply.usage.completion_tokens == 6
    assert reply.usage.total_time is not None
    assert reply.request_id is not None and reply.request_id.startswith("req_")
    assert groqsim.requests_for("chat")[0].json["stream"] is True


async def test_usage_from_x_groq_alone(groqsim: GroqSim, client: GroqClient) -> None:
    groqsim.enqueue("chat", ChatReply(content="one two", usage_top_level=False))
    _, reply = await collect(client, request())
    assert reply.usage is not None and reply.usage.completion_tokens == 2


async def test_reasoning_is_kept_apart_from_content(groqsim: GroqSim, client: GroqClient) -> None:
    groqsim.enqueue("chat", ChatReply(content="Lima.", reasoning="The user asks about Peru."))
    deltas, reply = await collect(client, request(include_reasoning=True))
    assert reply.reasoning == "The user asks about Peru."
    assert reply.content == "Lima."
    assert "".join(d.reasoning for d in deltas) == reply.reasoning
    assert "".join(d.content for d in deltas) == reply.content


@pytest.mark.parametrize("fragments", [False, True], ids=["whole", "fragmented"])
async def test_parallel_tool_calls_are_assembled_by_index(
    groqsim: GroqSim, client: GroqClient, fragments: bool
) -> None:
    groqsim.enqueue(
        "chat",
        ChatReply(
            tool_calls=[
                ToolCall("get_weather", {"city": "Lima"}, id="call_a"),
                ToolCall("get_weather", {"city": "Quito, Ecuador"}, id="call_b"),
            ],
            tool_call_fragments=fragments,
        ),
    )
    deltas, reply = await collect(client, request(tools=(WEATHER_TOOL,), tool_choice="auto"))
    assert deltas == []
    assert reply.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.parsed_arguments()) for c in reply.tool_calls] == [
        ("call_a", "get_weather", {"city": "Lima"}),
        ("call_b", "get_weather", {"city": "Quito, Ecuador"}),
    ]


async def test_non_streamed_tool_call_has_no_content(groqsim: GroqSim, client: GroqClient) -> None:
    groqsim.enqueue("chat", ChatReply(tool_calls=[ToolCall("get_weather", '{"city":"Lima"}')]))
    reply = await client.chat(request(tools=(WEATHER_TOOL,)))
    assert reply.content == ""
    assert reply.tool_calls[0].name == "get_weather"
    assert reply.tool_calls[0].arguments == '{"city":"Lima"}'


async def test_tool_round_trip_messages_are_documented(
    groqsim: GroqSim, client: GroqClient
) -> None:
    call = Call(id="call_1", name="get_weather", arguments='{"city":"Lima"}')
    history = (
        Message.system("Be brief."),
        Message.user("Weather in Lima?"),
        Message.assistant(None, (call,)),
        Message.tool("call_1", '{"temp_c": 19}'),
    )
    await client.chat(ChatRequest(model="openai/gpt-oss-20b", messages=history))
    sent = groqsim.requests_for("chat")[0].json["messages"]
    assert sent[2] == {"role": "assistant", "tool_calls": [call.to_wire()]}
    assert sent[3] == {"role": "tool", "content": '{"temp_c": 19}', "tool_call_id": "call_1"}


async def test_every_option_is_sent_as_documented(groqsim: GroqSim, client: GroqClient) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    await client.chat(
        request(
            tools=(WEATHER_TOOL,),
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            parallel_tool_calls=False,
            stop=("\n\n", "END"),
            seed=42,
            temperature=0.3,
            top_p=0.9,
            max_completion_tokens=256,
            include_reasoning=False,
            reasoning_effort="low",
        )
    )
    await client.chat(request(response_format={"type": "json_object"}, stop="END"))
    await client.chat(
        request(
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "city", "schema": schema, "strict": True},
            },
            reasoning_format="parsed",
        )
    )
    first, second, third = (r.json for r in groqsim.requests_for("chat"))
    assert first["stop"] == ["\n\n", "END"]
    assert first["seed"] == 42 and first["temperature"] == 0.3 and first["top_p"] == 0.9
    assert first["max_completion_tokens"] == 256
    assert first["reasoning_effort"] == "low" and first["include_reasoning"] is False
    assert first["parallel_tool_calls"] is False
    assert first["tool_choice"]["function"]["name"] == "get_weather"
    assert second["response_format"] == {"type": "json_object"} and second["stop"] == "END"
    assert third["response_format"]["json_schema"]["strict"] is True
    assert third["reasoning_format"] == "parsed"
    assert "temperature" not in second and "tools" not in second


@pytest.mark.parametrize("kind", ["error_event", "error_data"])
async def test_error_inside_an_open_stream_is_a_typed_error(
    groqsim: GroqSim, client: GroqClient, kind: str
) -> None:
    groqsim.enqueue("chat", StreamFault(kind))  # type: ignore[arg-type]
    received = []
    with pytest.raises(BadRequestError) as caught:
        async with client.stream_chat(request()) as stream:
            async for delta in stream:
                received.append(delta.content)
    assert received == ["one", " two"]
    assert caught.value.status == 400
    assert caught.value.code is not None


async def test_malformed_stream_data_is_a_stream_error(
    groqsim: GroqSim, client: GroqClient
) -> None:
    groqsim.enqueue("chat", StreamFault("malformed"))
    with pytest.raises(StreamError, match="malformed"):
        await collect(client, request())


async def test_dropped_stream_is_a_connection_error(groqsim: GroqSim, client: GroqClient) -> None:
    groqsim.enqueue("chat", StreamFault("drop", after=3))
    received = []
    with pytest.raises(ConnectionFailedError, match="dropped in the middle"):
        async with client.stream_chat(request()) as stream:
            async for delta in stream:
                received.append(delta.content)
    assert received == ["one", " two", " three"]


async def test_stalled_stream_times_out(groqsim: GroqSim, sleeps: SleepRecorder) -> None:
    groqsim.enqueue("chat", StreamFault("stall", stall_s=10))
    async with make_client(groqsim, sleeps, timeout=0.3) as client:
        with pytest.raises(ConnectionFailedError):
            await collect(client, request())


async def test_unknown_fields_are_ignored(groqsim: GroqSim, client: GroqClient) -> None:
    groqsim.enqueue("chat", ChatReply(content="fine"))
    _, reply = await collect(client, request())
    assert reply.content == "fine"


async def test_requests_share_one_connection(groqsim: GroqSim, client: GroqClient) -> None:
    for _ in range(3):
        await client.chat(request())
    ports = {r.client_port for r in groqsim.requests_for("chat")}
    assert len(ports) == 1


def test_completion_json_is_stable() -> None:
    """The request body is plain JSON (no tuples or dataclasses leak through)."""
    body = request(stop=("a",), tools=(WEATHER_TOOL,)).to_body(stream=True)
    assert json.loads(json.dumps(body)) == body
