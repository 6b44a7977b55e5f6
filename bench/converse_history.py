"""Benchmark: what storing every turn as it happens costs a streamed reply, and one commit.

Run: .venv/bin/python bench/converse_history.py [--rounds N]
The baseline is the bare Groq client streaming the same reply from the loopback server (in
its own process) in the same run; the ratio is what to compare across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _simproc import sim_process  # noqa: E402

from tests.groqsim import ChatReply, GroqSim  # noqa: E402
from voiced.converse.conversation import Conversation, ConversationOptions  # noqa: E402
from voiced.converse.history import HistoryStore  # noqa: E402
from voiced.converse.recorder import HistoryWriter  # noqa: E402
from voiced.credentials import Secret  # noqa: E402
from voiced.groq import ChatRequest, ClientOptions, GroqClient, Message  # noqa: E402

TOKENS = 2000
REPLY = " ".join(f"word{i % 97}" for i in range(TOKENS))
ROUNDS_MAX = 100


def _script(sim: GroqSim) -> None:
    sim.enqueue("chat", *[ChatReply(content=REPLY)] * (2 * ROUNDS_MAX + 4))


class NullSink:
    async def content(self, text: str) -> None:
        pass

    async def reasoning(self, text: str) -> None:
        pass


async def bench_turn(base_url: str, rounds: int, folder: Path) -> dict[str, float]:
    api = base_url + "/openai/v1"
    client = GroqClient(ClientOptions(api, api, Secret("gsk_bench")))
    request = ChatRequest(model="openai/gpt-oss-20b", messages=(Message.user("count"),))
    async with HistoryWriter(folder / "history.sqlite3") as writer:
        conversation = Conversation(client, writer, ConversationOptions("openai/gpt-oss-20b"))
        sink = NullSink()

        async def baseline() -> None:
            async with client.stream_chat(request) as stream:
                async for _ in stream:
                    pass

        async def ours() -> None:
            result = await conversation.ask("count", sink, new=True)
            assert len(result.text) == len(REPLY)

        await baseline()
        await ours()
        base, mine = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            await baseline()
            base.append(time.perf_counter() - start)
            start = time.perf_counter()
            await ours()
            mine.append(time.perf_counter() - start)
        conversation_id = (await writer.call(HistoryStore.conversations, 1))[0].id
        record = await writer.call(HistoryStore.conversation, conversation_id)
        assert record.turns[0].messages[-1].content == REPLY
    await client.aclose()
    b, o = statistics.median(base), statistics.median(mine)
    return {"baseline_ms": b * 1e3, "turn_ms": o * 1e3, "ratio": o / b}


def bench_commit(folder: Path, events: int = 500) -> dict[str, float]:
    store = HistoryStore(folder / "commits.sqlite3")
    turn, _ = store.start_turn(store.conversation_for(600), "hello")
    times = []
    for n in range(events):
        start = time.perf_counter()
        store.add_message(turn, "tool", content=f"result {n}", tool_call_id=f"c{n}")
        times.append(time.perf_counter() - start)
    store.close()
    times.sort()
    return {"median_ms": statistics.median(times) * 1e3, "p99_ms": times[int(0.99 * events)] * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    rounds = min(parser.parse_args().rounds, ROUNDS_MAX)
    with tempfile.TemporaryDirectory() as folder, sim_process(_script) as base_url:
        turn = asyncio.run(bench_turn(base_url, rounds, Path(folder)))
        commit = bench_commit(Path(folder))
    print(f"one turn, {TOKENS}-token streamed reply, median of {rounds} interleaved rounds:")
    print(
        f"  bare client stream {turn['baseline_ms']:.1f} ms; conversation turn with every step "
        f"stored {turn['turn_ms']:.1f} ms; ratio {turn['ratio']:.2f}x"
    )
    print(
        f"one history event committed (WAL, synchronous=NORMAL): median "
        f"{commit['median_ms']:.3f} ms, p99 {commit['p99_ms']:.3f} ms"
    )


if __name__ == "__main__":
    main()
