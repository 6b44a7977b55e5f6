"""The process's one pyttsx3 engine, living in one worker thread that renders text to WAV."""

from __future__ import annotations

import atexit
import concurrent.futures
import importlib
import os
import queue
import shutil
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from voiced.audio.playback import Clip
from voiced.errors import SpeechSynthesisError

T = TypeVar("T")
_Job = tuple[Callable[["Engine"], Any], concurrent.futures.Future[Any]]

ESPEAK_HINT = "install espeak-ng (sudo apt-get install espeak-ng) and pyttsx3"
WARM_UP_TEXT = "Ready."
LEAD_IN = 44
"""Samples of silence kept before the first sound of a render (2 ms; espeak adds about 11)."""
QUIET = 64
"""Samples quieter than this (int16) at the start of a render count as silence."""
EXIT_WAIT_S = 0.5
"""At exit, how long the process waits for a render in progress: espeak-ng's own thread
must not be torn down by the interpreter's exit in the middle of a render."""


@dataclass(frozen=True)
class VoiceInfo:
    """One voice the engine offers."""

    id: str
    """What [speech] voice takes, e.g. "gmw/en-us"."""
    name: str
    """The voice's name, e.g. "English (America)"."""
    languages: tuple[str, ...]
    """Language codes, e.g. ("en-us",)."""
    gender: str | None = None


class Engine:
    """pyttsx3 with its espeak driver, driven so that espeak-ng's own thread cannot race it.

    espeak-ng synthesizes in a thread of its own. pyttsx3 queues voice, rate and volume into
    its command FIFO, and ``runAndWait`` calls ``Cancel()`` when espeak-ng is still busy, which
    drops settings not yet applied (the render then comes out with the previous voice or rate)
    and fires a second, incomplete finished-utterance. So the engine is warmed up at once,
    which leaves pyttsx3 idle so that ``setProperty`` reaches espeak-ng immediately; every
    render then waits until espeak-ng is idle before it starts and after it ends, and only a
    completed utterance counts. Only ever used from the worker thread.
    """

    def __init__(self) -> None:
        try:
            import pyttsx3

            driver = importlib.import_module("pyttsx3.drivers.espeak")
            self._espeak: Any = importlib.import_module("pyttsx3.drivers._espeak")
        except Exception as exc:  # a missing libespeak-ng surfaces as a bare error on import
            message = f"pyttsx3 cannot load espeak-ng: {exc}"
            raise SpeechSynthesisError(message, ESPEAK_HINT) from exc
        setattr(driver, "print", _quiet)  # noqa: B010 (it prints "Audio saved to …" per file)
        try:
            self._engine: Any = pyttsx3.init("espeak")
            raw: Any = self._engine.getProperty("voices")
            self.default_voice = str(self._engine.getProperty("voice"))
        except Exception as exc:
            raise SpeechSynthesisError(f"espeak-ng failed to start: {exc}", ESPEAK_HINT) from exc
        self.voices = [
            VoiceInfo(v.id, v.name, tuple(v.languages or ()), getattr(v, "gender", None))
            for v in raw
        ]
        self._done = threading.Event()
        self._errors: list[BaseException] = []
        self._engine.connect("finished-utterance", self._finished)
        self._engine.connect("error", lambda exception=None, **_: self._errors.append(exception))
        self._dir = Path(tempfile.mkdtemp(prefix="voiced-tts-"))
        # The engine lives as long as the process: its (by then empty) directory goes at exit.
        atexit.register(shutil.rmtree, self._dir, ignore_errors=True)
        self._count = 0
        self._synthesize(WARM_UP_TEXT)  # the first runAndWait is the unreliable one

    def render(self, text: str, voice: str | None, rate: int, volume: float) -> Clip:
        """Synthesize ``text`` to 22050 Hz mono int16, leading silence trimmed to 2 ms.

        Raises:
            SpeechSynthesisError: espeak-ng reported an error or produced no audio in time.
        """
        self._wait_idle()
        self._errors.clear()
        self._engine.setProperty("voice", voice or self.default_voice)
        self._engine.setProperty("rate", rate)
        self._engine.setProperty("volume", volume)
        return self._synthesize(text)

    def _finished(self, completed: bool = True, **_: object) -> None:
        if completed:
            self._done.set()

    def _wait_idle(self, limit: float = 5.0) -> None:
        deadline = time.monotonic() + limit
        while self._espeak.IsPlaying():
            if time.monotonic() > deadline:
                raise SpeechSynthesisError(f"espeak-ng stayed busy for {limit:.0f} s")
            time.sleep(0.0005)

    def _synthesize(self, text: str) -> Clip:
        self._count += 1
        path = self._dir / f"chunk-{self._count}.wav"
        self._wait_idle()
        self._done.clear()
        self._engine.save_to_file(text, str(path))
        self._engine.runAndWait()  # returns before espeak-ng has finished
        finished = self._done.wait(5.0 + len(text) / 20)
        self._wait_idle()
        if self._errors or not finished or not path.exists():
            reason = self._errors[0] if self._errors else "no audio was produced in time"
            raise SpeechSynthesisError(f"espeak-ng could not say {text[:40]!r}: {reason}")
        try:
            with wave.open(str(path), "rb") as wav:
                rate_hz = wav.getframerate()
                samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        finally:
            path.unlink(missing_ok=True)
        loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > QUIET)
        start = max(0, int(loud[0]) - LEAD_IN) if loud.size else 0
        return Clip(samples[start:].astype(np.int16), rate_hz)


def _quiet(*args: object, **kwargs: object) -> None:
    """Stands in for print() inside pyttsx3's espeak driver."""


def normal_priority() -> None:
    """Move the calling thread to the normal scheduling policy if it inherited a real-time one.

    Rendering is bulk work. Under ``chrt`` or a unit's ``CPUSchedulingPolicy=rr``, a thread
    started by a real-time thread is real-time too: espeak-ng then takes a core from the
    sound server, which runs at normal priority, and the speaker underruns inside a clip.
    """
    if os.sched_getscheduler(0) != os.SCHED_OTHER:  # 0: the calling thread, on Linux
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


class SynthWorker:
    """Runs jobs on the one Engine, in order, in one daemon thread; warms it up first.

    Args:
        engine_factory: Builds the engine inside the thread.
    """

    def __init__(self, engine_factory: Callable[[], Engine] = Engine) -> None:
        self._factory = engine_factory
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self.ready: concurrent.futures.Future[Engine] = concurrent.futures.Future()
        """Resolves to the engine once it has started and rendered its warm-up text."""
        self._idle = threading.Event()
        """Set while the thread waits for a job (not inside espeak-ng)."""
        self._thread = threading.Thread(target=self._run, name="voiced-tts", daemon=True)
        self._thread.start()
        atexit.register(self._idle.wait, EXIT_WAIT_S)

    def submit(self, job: Callable[[Engine], T]) -> concurrent.futures.Future[T]:
        """Queue ``job(engine)`` behind the jobs already waiting; return its future."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((job, future))
        return future

    def _run(self) -> None:
        normal_priority()
        try:
            engine = self._factory()  # it warms itself up
        except BaseException as exc:  # every later job fails with the same error
            self.ready.set_exception(exc)
            self._idle.set()
            while True:
                _, future = self._jobs.get()
                future.set_exception(exc)
        self.ready.set_result(engine)
        while True:
            self._idle.set()
            job, future = self._jobs.get()
            self._idle.clear()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job(engine))
            except BaseException as exc:
                future.set_exception(exc)


_shared: SynthWorker | None = None
_shared_lock = threading.Lock()


def shared_worker() -> SynthWorker:
    """The process's worker (pyttsx3 allows one espeak engine per process), started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SynthWorker()
        return _shared
