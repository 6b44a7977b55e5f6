"""Over its token budget, the history's older turns become a summary written by the model."""

from __future__ import annotations

from tests.converse.conftest import MODEL, Heard, conversation
from tests.groqsim import ChatReply, ErrorReply, GroqSim
from voiced.converse.budget import SUMMARY_PROMPT, effective_budget
from voiced.converse.context import SUMMARY_HEADING
from voiced.converse.history import HistoryStore
from voiced.converse.recorder import HistoryWriter
from voiced.groq.client import GroqClient

FILLER = "and then " * 40  # about 90 tokens per message


async def talk(convo: object, groqsim: GroqSim, first: int, last: int) -> None:
    for n in range(first, last + 1):
        groqsim.enqueue("chat", ChatReply(content=f"answer {n} {FILLER}"))
        await convo.ask(f"question {n} {FILLER}", Heard())  # type: ignore[attr-defined]


def contents(messages: list[dict[str, object]]) -> str:
    return "\n".join(str(m.get("content", "")) for m in messages)


async def test_older_turns_are_summarised_and_the_latest_kept_verbatim(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    convo = conversation(client, history, history_token_budget=600, keep_recent_turns=2)
    await talk(convo, groqsim, 1, 3)
    # the fourth question sees 3 earlier turns, about 580 tokens: still under the budget
    await talk(convo, groqsim, 4, 4)
    assert all(r.json.get("stream") for r in groqsim.requests_for("chat"))
    groqsim.enqueue(
        "chat",
        ChatReply(content="The user asked four numbered questions."),
        ChatReply(content="Five."),
    )
    before = len(groqsim.requests_for("chat"))
    result = await convo.ask("question 5", Heard())
    summary_request, answer_request = (r.json for r in groqsim.requests_for("chat")[before:])

    assert "stream" not in summary_request and "tools" not in summary_request
    assert summary_request["model"] == MODEL
    system, transcript = summary_request["messages"]
    assert system == {"role": "system", "content": SUMMARY_PROMPT}
    assert (
        "User: question 1" in transcript["content"]
        and "Assistant: answer 2" in transcript["content"]
    )
    assert "question 3" not in transcript["content"] and "question 4" not in transcript["content"]

    sent = answer_request["messages"]
    assert sent[0]["content"].endswith(f"{SUMMARY_HEADING} The user asked four numbered questions.")
    kept = contents(sent[1:])
    assert "question 1" not in kept and "answer 2" not in kept
    assert [m["content"].split()[:2] for m in sent[1:-1]] == [
        ["question", "3"],
        ["answer", "3"],
        ["question", "4"],
        ["answer", "4"],
    ]
    assert sent[-1] == {"role": "user", "content": "question 5"}

    record = await history.call(HistoryStore.conversation, result.conversation_id)
    assert record.summary == "The user asked four numbered questions."
    assert record.summary_through == record.turns[1].id
    assert len(record.turns) == 5  # nothing is deleted: the summary only shortens what is sent

    groqsim.enqueue("chat", ChatReply(content="Six."))
    await convo.ask("question 6", Heard())
    last = groqsim.requests_for("chat")[-1].json
    assert last["stream"] is True  # the stored summary is reused, not written again
    assert SUMMARY_HEADING in last["messages"][0]["content"]
    assert "question 2" not in contents(last["messages"])


async def test_the_context_window_from_the_models_list_caps_the_budget(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    for model in groqsim.models:
        if model["id"] == MODEL:
            # 4900 - 4096 kept for the reply - about 124 for the prompt and question: about
            # 680 tokens for the history, which holds three turns (582) but not four (776)
            model["context_window"] = 4900
    convo = conversation(client, history, history_token_budget=100_000, keep_recent_turns=1)
    await talk(convo, groqsim, 1, 4)
    assert all(r.json.get("stream") for r in groqsim.requests_for("chat"))
    groqsim.enqueue("chat", ChatReply(content="Four questions."), ChatReply(content="Five."))
    await convo.ask(f"question 5 {FILLER}", Heard())
    summary, answer = (r.json for r in groqsim.requests_for("chat")[-2:])
    assert "stream" not in summary and answer["stream"] is True
    assert "question 4" not in summary["messages"][1]["content"]
    assert [m["content"].split()[:2] for m in answer["messages"][1:-1]] == [
        ["question", "4"],
        ["answer", "4"],
    ]
    assert len(groqsim.requests_for("models")) == 1  # read once, then remembered


async def test_a_failed_summary_still_answers_with_the_latest_turns(
    groqsim: GroqSim, client: GroqClient, history: HistoryWriter
) -> None:
    convo = conversation(client, history, history_token_budget=300, keep_recent_turns=1)
    await talk(convo, groqsim, 1, 2)
    groqsim.enqueue("chat", ErrorReply(400, "bad summary"), ChatReply(content="Still here."))
    heard = Heard()
    await convo.ask("question 3", heard)
    assert heard.text == "Still here."
    sent = groqsim.requests_for("chat")[-1].json["messages"]
    assert "question 1" not in contents(sent) and "question 2" in contents(sent)
    record = await history.call(HistoryStore.conversation, 1)
    assert record.summary == "" and record.summary_through == 0


def test_the_budget_is_the_smaller_of_config_and_window() -> None:
    assert effective_budget(8000, None, None, 500) == 8000
    assert effective_budget(8000, 131072, None, 500) == 8000
    assert effective_budget(8000, 8192, 1024, 500) == 6668
    assert effective_budget(8000, 4096, None, 500) == 256
