"""Replay-mode runs for the pipeline tests: a spoken scene in, the output and events out."""

from __future__ import annotations

import asyncio
import json
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tests.audio.speech import Scene
from tests.groqsim import GroqSim, Segment, Transcript
from voiced.audio.room import RoomOptions
from voiced.config import Settings, load_settings
from voiced.daemon.app import Daemon
from voiced.pipeline.assemble import AssembledEngine, ReplayFiles, engine_factory

RATE = 16000
LOUD = 300
"""int16 level above which output audio counts as sound (the room noise is far below)."""


@dataclass
class Replayed:
    """What one replay produced."""

    scene: Scene
    events: list[dict[str, Any]]
    output: npt.NDArray[np.int16]
    code: int

    def of(self, kind: str, /, **match: Any) -> list[dict[str, Any]]:
        """The events of a type whose fields equal ``match``."""
        return [
            e
            for e in self.events
            if e["type"] == kind and all(e.get(k) == v for k, v in match.items())
        ]

    def one(self, kind: str, /, **match: Any) -> dict[str, Any]:
        found = self.of(kind, **match)
        story = [e for e in self.events if e["type"] not in ("level", "assistant_delta")]
        assert len(found) == 1, f"expected one {kind} {match}, got {found}; events: {story}"
        return found[0]

    def loud_at(self, after: int = 0) -> int | None:
        """First output sample at or after ``after`` that is sound, or None."""
        loud = np.flatnonzero(np.abs(self.output[after:].astype(np.int32)) > LOUD)
        return int(loud[0]) + after if loud.size else None

    def silent(self, start: int, end: int) -> bool:
        """Whether the output holds no sound between two samples."""
        part = self.output[start:end].astype(np.int32)
        return part.size == 0 or int(np.abs(part).max()) <= LOUD


LONG_REPLY = (
    "Here is a long answer, so that there is time to talk over it. It goes on for a while, "
    "sentence after sentence, about nothing much at all. And then it goes on some more, "
    "because it has to last for several seconds of speech."
)
"""A reply that plays for several seconds, to speak over."""


def transcript(text: str) -> Transcript:
    """What the loopback server answers for ``text`` spoken (one segment)."""
    return Transcript(text=" " + text, segments=[Segment(0.0, 1.5, " " + text)])


def settings_for(sim: GroqSim, home: Path, *, turn_model: bool = False, **daemon: Any) -> Settings:
    """Settings pointing at the simulator, no retries, with ``[daemon]`` overrides.

    The mode is "always" unless ``mode`` says otherwise: these scenes are questions without a
    wake word, answered as every utterance is in that mode (the wake word's tests ask for
    "wake"). The turn model is off unless ``turn_model``: the scenes script one transcript per
    pause of fixed timing, and the model, on its worker thread, may speculate at a shorter
    pause it hears as finished depending on the machine's load (it has its own tests in
    tests/listen and tests/daemon/test_turn_model.py).
    """
    daemon.setdefault("mode", "always")
    loaded = load_settings(
        {"HOME": str(home), "GROQ_API_KEY": sim.api_key or "", "GROQ_BASE_URL": sim.base_url}
    )
    return replace(
        loaded,
        listen=replace(loaded.listen, turn_model=turn_model),
        daemon=replace(loaded.daemon, **daemon),
        network=replace(loaded.network, max_retries=0),
        speech=replace(loaded.speech, earcons=False),
    )


async def replay(
    scene: Scene,
    settings: Settings,
    workdir: Path,
    during: Callable[[Daemon], Awaitable[None]] | None = None,
    room: RoomOptions | None = None,
) -> Replayed:
    """Run ``voiced daemon --input … --output … --events … --skip-idle`` in-process on
    ``scene``. With ``during``, the input runs in real time until ``during`` returns (it
    acts on the daemon as a user would, on the wall clock), and skips idle stretches after.
    With ``room``, voiced's output is echoed into the input (``--echo-gain`` …).
    """
    files = ReplayFiles(
        scene.wav(workdir), workdir / "out.wav", workdir / "events.jsonl", True, room
    )
    sock = workdir / "s" / "control.sock"
    daemon = Daemon(settings, socket=sock, engine=engine_factory(settings, files))
    engine = daemon.engine
    assert isinstance(engine, AssembledEngine)
    task = asyncio.create_task(daemon.run(handle_signals=False))
    if during is not None:
        engine.skip_idle = False
        await daemon.ready.wait()
        await during(daemon)
        engine.skip_idle = True
    async with asyncio.timeout(45):
        code = await task
    return await asyncio.to_thread(_load, scene, files, code)


def _load(scene: Scene, files: ReplayFiles, code: int) -> Replayed:
    assert files.events is not None and files.output is not None
    events = [json.loads(line) for line in files.events.read_text().splitlines()]
    with wave.open(str(files.output)) as out:
        assert out.getframerate() == RATE and out.getnchannels() == 1
        output = np.frombuffer(out.readframes(out.getnframes()), dtype="<i2").astype(np.int16)
    return Replayed(scene, events, output, code)
