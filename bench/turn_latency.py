"""Benchmark: end of speech → first reply audio, the turn model against fixed timing.

Run: .venv/bin/python bench/turn_latency.py [--questions N] [--real] [--wake] [--partial-asks]
    [--text-off] [--pause S [--no-aec]]

Replays one recording of N spoken questions (espeak-ng, several voices; with ``--real`` the
Asterisk prompts' human voice, tests/audio/recordings.py) through
``voiced daemon --input … --output …`` twice at once, each against its own loopback
Groq server with Groq-like delays (transcription 300 ms, first token 200 ms, 500 tokens/s):
- "turn model": the defaults. At a pause's first 60 ms of silence the utterance is
  transcribed and asked at once while Smart Turn v3.2 judges it: a question it is sure is
  finished ends after 400 ms of quiet (less sure, up to the 700 ms hangover), an unsure one
  after the hangover, an unfinished one after 1.2 s;
- "fixed": today's timing (``[listen] turn_model = false``, ``confirm_end = false``):
  speculation after 200 ms of silence, the end after the 700 ms hangover.
The simulator answers each upload with the words said in it (it finds the upload in the
recording): a whole question as written, with its "?" or "." (what Whisper returns for a
clearly spoken sentence), half a question (sent at a pause inside it) as the words so far
without a final mark, or with ``--partial-asks`` ending in "?" too, the worst case for
``[listen] turn_text`` (a question mark that ends a turn the model held open). ``--text-off``
adds a third replay, the turn model with ``turn_text = false``. "by ?" counts the turns ended
by their early transcript's question mark, "cut" the accepted transcripts that are not a
whole question (cut short).
Latency is measured from the files alone: the end of each question is known from how the
recording was made, the first reply audio is the first loud output sample after it. Targets
with the turn model: p50 ≤ 650 ms, p95 ≤ 850 ms, and every question answered once (none cut
short: a split question would be answered twice). "uploads" and "chats" are the requests each
simulator received (uploads withdrawn when the speaker went on included).

With ``--real`` the 20 questions are held out: the turn settings were calibrated on the other
prompts (bench/turn_segments.py says which).

With ``--pause S`` (a human voice) the questions are the real one-clause sentences of
bench/turn_segments.py's cut-offs, each with a thinking pause of S seconds at her longest inner
pause, replayed three times side by side: the defaults, ``[daemon] rejoin_hold = false`` and
``[listen] turn_rejoin_ms = 0``. "one question" counts the sentences whose accepted
transcripts, less those of turns withdrawn because the speaker went on, are the whole sentence
once; "withdrawn" the turns stopped so; "heard ms" how much reply audio had gone out when each
was withdrawn (the daemon's log, median / max) and "heard 0" how many had none; "held" the
replies held because their question sounded unfinished and then played (median / max of how
long, the daemon's log); "out ms" the loud output between a sentence's first word and its last
(what the user heard of replies before finishing, median / max over the sentences that had
any). There ``--partial-asks`` ends every half sentence's transcript in "?" (Whisper
punctuating it as a whole one: only its last word can tell the hold it is unfinished), and
``--no-aec`` replays with ``[daemon] echo_cancelled = false``: speech over an audible reply may
be voiced's own voice, so no rejoin is taken once reply audio has played (replay has no room,
so nothing echoes; what changes is what the daemon may assume).

With ``--wake`` each question starts with the wake word in one breath ("Okay Nabu, what time
is it?", in voices okay_nabu hears) and the same recording is replayed in "wake" mode and in
"always" mode side by side: the wake word must add no more than 50 ms at p50.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
import soundfile  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _simproc import ROOT, sim_process  # noqa: E402

from tests.audio.recordings import sentences  # noqa: E402
from tests.audio.speech import RATE, speak  # noqa: E402
from tests.groqsim import ChatReply, GroqSim, Segment, Transcript  # noqa: E402
from tests.listen.realscenes import real_halves, with_pause  # noqa: E402
from tests.listen.scenes import lay_out  # noqa: E402
from voiced.config import ListenSettings  # noqa: E402

QUESTIONS = [
    "What time is it?",
    "What is the weather like tomorrow morning?",
    "Set a timer for ten minutes.",
    "How far away is the moon?",
    "Remind me to call my sister at five.",
    "What is twelve times fourteen?",
    "Who wrote the Odyssey?",
    "Turn off the lights in the kitchen.",
    "How do you say thank you in Japanese?",
    "What day of the week is it?",
    "Play some quiet music.",
    "How many minutes are in a day?",
    "What is the capital of Peru?",
    "Add milk to my shopping list.",
    "When does the sun set today?",
    "Tell me a short joke.",
    "How tall is Mount Everest?",
    "What is the square root of two?",
    "Open my calendar.",
    "Is it going to rain this afternoon?",
    "What is the boiling point of water?",
    "Spell the word necessary.",
]
VOICES = [("en-us", 160), ("en-gb", 150), ("en+f3", 180), ("en-us+m3", 140)]
WAKE_VOICES = [("en-us", 160), ("en-gb", 150), ("en", 180), ("en-us+m3", 140)]
"""Voices okay_nabu hears at its cut-off (it misses espeak-ng's female variants)."""
WAKE_WORD = "Okay Nabu"
GAP_S = 3.5
"""Silence after each question: room for the reply, which is a short sentence."""
REPLY = "Sure, here it is."
LOUD = 300
FIXED = "[listen]\nturn_model = false\nconfirm_end = false\n"
"""Today's timing: no turn model, the end measured by webrtcvad and the energy gate."""
CONFIGS = {
    "turn model": '[daemon]\nmode = "always"\nspeculative = true\n',
    "fixed": '[daemon]\nmode = "always"\nspeculative = true\n' + FIXED,
}
"""The configurations replayed side by side."""
TEXT_OFF = CONFIGS["turn model"] + "[listen]\nturn_text = false\n"
"""With --text-off: the turn model alone, its early transcripts not asked about the end."""
WAKE_CONFIGS = {
    "always": '[daemon]\nmode = "always"\nspeculative = true\n',
    "wake": '[daemon]\nmode = "wake"\nspeculative = true\n',
}
"""With --wake: the one-breath wake questions in each mode (speculation on in both)."""


def pause_configs(aec: bool) -> dict[str, str]:
    """With --pause: the defaults, the reply to an unfinished-sounding question not held, and
    early ends never withdrawn; with ``aec`` false, the microphone not echo-cancelled."""
    daemon = CONFIGS["turn model"] + ("" if aec else "echo_cancelled = false\n")
    return {
        "turn model": daemon,
        "no hold": daemon + "rejoin_hold = false\n",
        "no rejoin": daemon + "[listen]\nturn_rejoin_ms = 0\n",
    }


FULL_S = 0.1
"""An upload that reaches this close to the end of a question's last loud sample holds all of
it (an upload at a pause inside it ends a word or more before)."""


class Heard:
    """What Whisper would return for each upload of the recording: the words said in it.

    The upload is found in the recording by its samples (replay feeds the file's samples
    unchanged), so its start and end say which question it holds and how much of it. One
    that holds the whole question gets its text as written, with its final "." or "?" (what
    Whisper returns for a clearly spoken sentence); one cut at a pause inside it gets the
    words said so far (placed by their share of the letters), without a final mark, or with
    the question's "?" when ``partial_asks`` (the worst case: Whisper punctuating half a
    question as a question).
    """

    def __init__(
        self,
        wav: Path,
        spans: list[tuple[int, int]],
        texts: list[str],
        partial_asks: bool,
        every_half_asks: bool = False,
    ) -> None:
        with wave.open(str(wav)) as f:
            self.recording = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2")
        self.spans, self.texts, self.partial_asks = spans, texts, partial_asks
        self.every_half_asks = every_half_asks
        """Half of a statement ends in "?" too (--pause --partial-asks)."""
        self.ends = [self._last_loud(a, b) for a, b in spans]

    def _last_loud(self, start: int, end: int) -> int:
        part = np.abs(self.recording[start:end].astype(np.int32))
        return start + int(np.flatnonzero(part > 0.05 * part.max())[-1])

    def __call__(self, upload: bytes) -> Transcript:
        audio, _ = soundfile.read(io.BytesIO(upload), dtype="int16")
        text = self.text(self.locate(np.asarray(audio, dtype=np.int16)))
        return Transcript(text=text, segments=[Segment(0.0, 1.5, text)], delay=0.3)

    def locate(self, audio: np.ndarray) -> tuple[int, int]:
        """Where ``audio`` lies in the recording: (start, end) samples."""
        loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > 2000)
        k = int(loud[0]) if loud.size else 0
        needle = audio[k : k + 64]
        for at in np.flatnonzero(self.recording == needle[0]):
            if np.array_equal(self.recording[at : at + needle.size], needle):
                return int(at) - k, int(at) - k + audio.size
        raise RuntimeError("an upload that is not in the recording")

    def text(self, span: tuple[int, int]) -> str:
        start, end = span
        for (onset, _), last, text in zip(self.spans, self.ends, self.texts, strict=True):
            if not start <= onset < end and not onset <= start < last:
                continue
            if end >= last - FULL_S * RATE:
                return " " + text
            said = (end - onset) / (last - onset)
            words, kept, letters = text.split(), [], 0
            for word in words:
                letters += len(word)
                if letters > said * len(text.replace(" ", "")):
                    break
                kept.append(word)
            half = " ".join(kept).rstrip(".,?!")
            asks = self.every_half_asks or (self.partial_asks and text.endswith("?"))
            return " " + half + ("?" if asks else "")
        return ""


def _heard_script(heard: Heard, sim: GroqSim) -> None:
    sim.transcriber = heard
    for _ in range(200):
        sim.enqueue("chat", ChatReply(content=REPLY, ttft=0.2, tokens_per_s=500))


def recording(
    count: int,
    directory: Path,
    wake: bool = False,
    real: bool = False,
    pause: float | None = None,
) -> tuple[Path, list[tuple[int, int]], list[str]]:
    """The spoken questions with silence between them, each one's (onset, offset) and text;
    with ``wake`` each begins with the wake word, in the same breath; with ``real`` they are
    the Asterisk prompts' human voice; with ``pause`` they are her one-clause sentences with
    a thinking pause that long inside each."""
    texts: list[str] = []
    parts: list[object] = [1.0]
    if pause is not None:
        for said, first, rest in real_halves()[:count]:
            parts += [[with_pause(first, rest, pause)], GAP_S]
            texts.append(said.text)
        scene = lay_out("paused", parts)  # type: ignore[arg-type]
        return scene.wav(directory), list(scene.utterances), texts
    voices = WAKE_VOICES if wake else VOICES
    prompts = sentences(max(count, 50)) if real else ()
    for i in range(count):
        if real:
            audio = prompts[i % len(prompts)].audio
            parts += [[audio[: audio.size // 160 * 160]], GAP_S]
            texts.append(prompts[i % len(prompts)].text)
            continue
        voice, speed = voices[i % len(voices)]
        question = QUESTIONS[i % len(QUESTIONS)]
        if wake:
            question = f"{WAKE_WORD}, {question[0].lower()}{question[1:]}"
        parts += [[speak(question, voice, speed)], GAP_S]
        texts.append(question)
    scene = lay_out("questions", parts)  # type: ignore[arg-type]
    return scene.wav(directory), list(scene.utterances), texts


def run_daemon(
    source: Path, base_url: str, name: str, work: Path, configs: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Replay ``source`` through ``voiced daemon`` with the configuration ``configs[name]``."""
    config = work / f"config-{name}.toml"
    config.write_text(configs[name] + "[speech]\nearcons = false\n")
    env = {
        **os.environ,
        "VOICED_CONFIG": str(config),
        "GROQ_BASE_URL": base_url,
        "XDG_DATA_HOME": str(work / f"data-{name}"),
        "HOME": str(work),
        "PYTHONPATH": str(ROOT),
        "GROQ_API_KEY": "gsk_bench_0000000000000000",
    }
    out = work / f"out-{name}.wav"
    command = [sys.executable, "-m", "voiced", "daemon", "--input", str(source)]
    command += ["--output", str(out), "--events", str(work / f"events-{name}.jsonl")]
    log = (work / f"log-{name}.txt").open("wb")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def latencies(output: Path, utterances: list[tuple[int, int]]) -> list[float]:
    """Seconds from each question's end to the first loud output sample after it."""
    with wave.open(str(output)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.int32)
    found = []
    for i, (_, end) in enumerate(utterances):
        until = utterances[i + 1][0] if i + 1 < len(utterances) else samples.size
        loud = np.flatnonzero(np.abs(samples[end:until]) > LOUD)
        if loud.size:
            found.append(loud[0] / 16000)
    return found


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--wake", action="store_true", help="wake mode against always mode")
    parser.add_argument("--real", action="store_true", help="a human voice (Asterisk prompts)")
    parser.add_argument(
        "--partial-asks",
        action="store_true",
        help='transcripts of half a question end in "?" too (the worst case for turn_text)',
    )
    parser.add_argument(
        "--text-off",
        action="store_true",
        help="also replay the turn model with [listen] turn_text = false (three side by side)",
    )
    parser.add_argument(
        "--pause",
        type=float,
        help="real sentences with a thinking pause this long inside (seconds): one question?",
    )
    parser.add_argument(
        "--no-aec",
        action="store_true",
        help="with --pause: the daemon told its microphone is not echo-cancelled",
    )
    args = parser.parse_args()
    if args.pause is not None:
        return paused(args.questions, args.pause, args.partial_asks, not args.no_aec)
    configs = WAKE_CONFIGS if args.wake else CONFIGS
    if args.text_off and not args.wake:
        configs = {"turn model": CONFIGS["turn model"], "model, no text": TEXT_OFF, **CONFIGS}
    hangover = ListenSettings().hangover_ms / 1000
    work = Path(tempfile.mkdtemp(prefix="voiced-bench-"))
    source, utterances, texts = recording(args.questions, work, args.wake, args.real)
    print(
        f"{args.questions} questions, {sum(e - s for s, e in utterances) / 16000:.1f} s of speech"
    )
    print(f"hangover (end of speech confirmed after): {hangover * 1000:.0f} ms")
    print("simulated Groq: transcription 300 ms, first token 200 ms, 500 tokens/s")
    half = 'end in "?" like the question' if args.partial_asks else "have no final mark"
    print(f"transcripts: the words said in each upload; those of half a question {half}")
    with contextlib.ExitStack() as stack:
        heard = Heard(source, utterances, texts, args.partial_asks)
        script = functools.partial(_heard_script, heard)
        counts: dict[str, dict[str, int]] = {name: {} for name in configs}
        urls = {name: stack.enter_context(sim_process(script, counts[name])) for name in configs}
        began = time.monotonic()
        procs = {name: run_daemon(source, urls[name], name, work, configs) for name in configs}
        for name, proc in procs.items():
            if proc.wait(timeout=600) != 0:
                print(f"{name}: the daemon failed; see {work}", file=sys.stderr)
                return 1
        print(f"the replays took {time.monotonic() - began:.0f} s (run side by side)")
    header = f"{'mode' if args.wake else 'config':<22} {'answered':>8} {'p50 ms':>7} {'p95 ms':>7}"
    print(
        f"\n{header} {'p50-hang':>8} {'p95-hang':>8} {'voiced p50':>10} {'STT billed':>10}"
        f" {'uploads':>7} {'chats':>5} {'by ?':>6} {'cut':>4}"
    )
    results = {}
    once: dict[str, bool] = {}
    for name in configs:
        events = [json.loads(line) for line in (work / f"events-{name}.jsonl").open()]
        answered = [e for e in events if e["type"] == "assistant_text" and e["text"] == REPLY]
        errors = [e for e in events if e["type"] == "error"]
        once[name] = not errors and len(answered) == len(utterances)
        if not once[name]:
            print(f"{name}: {len(answered)} answers to {len(utterances)}, errors: {errors[:2]}")
        own = [e["first_audio_ms"] for e in events if e["type"] == "timeline"]
        said = [e["text"].strip() for e in events if e["type"] == "transcript" and e["accepted"]]
        # In wake mode the model is asked the question without the wake word before it.
        whole = set(texts) | {t.removeprefix(f"{WAKE_WORD}, ") for t in texts}
        cut = sum(1 for text in said if text not in whole)
        once[name] = once[name] and not cut
        log = (work / f"log-{name}.txt").read_text(errors="replace")
        asked = log.count("the early transcript asked a question")
        stt = sum(1 for e in events if e["type"] == "usage" and e["kind"] == "stt")
        found = latencies(work / f"out-{name}.wav", utterances)
        p50, p95 = percentile(found, 50), percentile(found, 95)
        results[name] = (p50, p95)
        print(
            f"{name:<22} {len(found):>5}/{len(utterances):<2} {p50 * 1000:>7.0f} "
            f"{p95 * 1000:>7.0f} {(p50 - hangover) * 1000:>8.0f} {(p95 - hangover) * 1000:>8.0f} "
            f"{statistics.median(own):>10.0f} {stt:>10} {counts[name].get('transcriptions', 0):>7}"
            f" {counts[name].get('chat', 0):>5} {asked:>6} {cut:>4}"
        )
    if args.wake:
        (a50, a95), (w50, w95) = results["always"], results["wake"]
        met = w50 - a50 <= 0.050
        print(
            f"wake - always: p50 {(w50 - a50) * 1000:+.0f} ms, p95 {(w95 - a95) * 1000:+.0f} ms; "
            f"target (p50 ≤ +50 ms) {'met' if met else 'NOT met'}"
        )
        print(f"files: {work}")
        return 0
    fixed50, fixed95 = results["fixed"]
    p50, p95 = results["turn model"]
    met = p50 <= 0.650 and p95 <= 0.850 and once["turn model"]
    print(
        f"turn model against fixed timing: p50 {(p50 - fixed50) * 1000:+.0f} ms, p95 "
        f"{(p95 - fixed95) * 1000:+.0f} ms; target (p50 ≤ 650 ms, p95 ≤ 850 ms, every question "
        f"answered once) {'met' if met else 'NOT met'}"
    )
    print(f"files: {work}")
    return 0


def paused(count: int, pause: float, partial_asks: bool, aec: bool) -> int:
    """Real sentences with a thinking pause: answered as one question, and what was heard."""
    configs = pause_configs(aec)
    work = Path(tempfile.mkdtemp(prefix="voiced-bench-"))
    source, utterances, texts = recording(count, work, pause=pause)
    print(f"{len(texts)} real sentences, each with a {pause:g} s pause at her longest inner one")
    print("simulated Groq: transcription 300 ms, first token 200 ms, 500 tokens/s")
    half = 'end in "?"' if partial_asks else "have no final mark"
    print(f"transcripts: the words said in each upload; those of half a sentence {half}")
    print(
        f"microphone: {'echo-cancelled' if aec else 'not echo-cancelled (echo_cancelled = false)'}"
    )
    with contextlib.ExitStack() as stack:
        heard = Heard(source, utterances, texts, partial_asks, every_half_asks=partial_asks)
        script = functools.partial(_heard_script, heard)
        counts: dict[str, dict[str, int]] = {name: {} for name in configs}
        urls = {name: stack.enter_context(sim_process(script, counts[name])) for name in configs}
        began = time.monotonic()
        procs = {name: run_daemon(source, urls[name], name, work, configs) for name in configs}
        for name, proc in procs.items():
            if proc.wait(timeout=1200) != 0:
                print(f"{name}: the daemon failed; see {work}", file=sys.stderr)
                return 1
        print(f"the replays took {time.monotonic() - began:.0f} s (run side by side)")
    print(
        f"\n{'config':<12} {'one question':>12} {'withdrawn':>9} {'heard ms':>9} {'heard 0':>7}"
        f" {'held':>4} {'held ms':>9} {'out ms':>9} {'p50 ms':>7} {'p95 ms':>7} {'uploads':>7}"
        f" {'chats':>5}"
    )
    for name in configs:
        events = [json.loads(line) for line in (work / f"events-{name}.jsonl").open()]
        withdrawn: dict[int, int] = {}
        held: list[int] = []
        for e in events:
            message = e.get("message", "") if e["type"] == "log" else ""
            if "withdrawn: the speaker went on" in message:
                turn = int(message.split()[1])
                withdrawn[turn] = int(message.split("(")[1].split()[0])
            elif message.startswith("reply held "):
                held.append(int(message.split()[2]))
        asked = [
            (e["turn"], e["text"].strip())
            for e in events
            if e["type"] == "transcript" and e["accepted"] and e["turn"] not in withdrawn
        ]
        groups: list[list[str]] = [[] for _ in texts]
        at = 0
        for _, said in asked:  # in order; the simulator gives the words said so far
            words = said.rstrip("?")  # a half may end in "?" (--partial-asks)
            while at < len(texts) and not (said and texts[at].startswith(words)):
                at += 1
            if at < len(texts):
                groups[at].append(said)
        once = sum(1 for text, group in zip(texts, groups, strict=True) if group == [text])
        with wave.open(str(work / f"out-{name}.wav")) as wav:
            out = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.int32)
        over = []
        for onset, offset in utterances:
            loud = np.flatnonzero(np.abs(out[onset:offset]) > LOUD)
            if loud.size:
                over.append((loud[-1] - loud[0]) / 16)
        played = list(withdrawn.values())
        silent = sum(1 for ms in played if ms == 0)
        found = latencies(work / f"out-{name}.wav", utterances)
        print(
            f"{name:<12} {once:>8}/{len(texts):<3} {len(withdrawn):>9} {_mid_max(played):>9}"
            f" {silent:>7} {len(held):>4} {_mid_max(held):>9} {_mid_max(over):>9}"
            f" {percentile(found, 50) * 1000:>7.0f} {percentile(found, 95) * 1000:>7.0f}"
            f" {counts[name].get('transcriptions', 0):>7} {counts[name].get('chat', 0):>5}"
        )
        if over:
            print(f"  {len(over)} sentences had reply audio before their last word")
    print(f"files: {work}")
    return 0


def _mid_max(values: list[float] | list[int]) -> str:
    """ "median/max" of ``values``, or "-" for none."""
    if not values:
        return "-"
    return f"{statistics.median(values):.0f}/{max(values):.0f}"


if __name__ == "__main__":
    raise SystemExit(main())
