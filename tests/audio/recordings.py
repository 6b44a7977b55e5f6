"""Real recordings: a human voice (Allison Smith's Asterisk prompts) and music on hold.

Debian packages them (CC-BY-SA-3.0 prompts, CC-BY-SA music): ``asterisk-core-sounds-en-wav``
(the prompts, 8 kHz WAV), ``asterisk-core-sounds-en`` (their texts, ``core-sounds-en.txt``)
and ``asterisk-moh-opsound-wav`` (five pieces of music). They are fetched with
``apt-get download`` into ``tests/.cache/asterisk`` (git-ignored) the first time a test needs
them; ``./scripts/setup.sh test`` fetches them before the tests run
(``python -m tests.audio.recordings``). Nothing here is committed.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import soundfile  # type: ignore[import-untyped, unused-ignore]
import soxr

from tests.audio.speech import RATE, SPEECH_DB, Floats, rms_db

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "asterisk"
PACKAGES = ("asterisk-core-sounds-en-wav", "asterisk-core-sounds-en", "asterisk-moh-opsound-wav")
VOICE = CACHE / "usr/share/asterisk/sounds/en_US_f_Allison"
MUSIC = CACHE / "usr/share/asterisk/moh"
TEXTS = CACHE / "usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
DONE = CACHE / ".complete"
TRIM_DB = 45.0
"""A prompt's speech runs from where its level first comes within this of its peak (10 ms
windows) to where it last does: the recordings carry a faint hiss around the words."""


@dataclass(frozen=True)
class Prompt:
    """One recorded prompt: its name, what it says, and its speech at 16 kHz, ``SPEECH_DB``."""

    name: str
    text: str
    audio: Floats


def fetch() -> Path:
    """Download and unpack the packages into ``CACHE`` unless they are there; return it.

    Raises:
        RuntimeError: apt-get or dpkg-deb failed (the message says what to do).
    """
    if DONE.exists():
        return CACHE
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing: the real-voice tests need Debian's packages")
    with tempfile.TemporaryDirectory(prefix="voiced-asterisk-") as tmp:
        if _download(Path(tmp)) != 0:
            # A fresh machine may have no package lists yet.
            print("apt-get download found nothing: running apt-get update", file=sys.stderr)
            _run(["apt-get", "update", "-qq"], Path(tmp))
            if _download(Path(tmp)) != 0:
                raise RuntimeError(
                    f"apt-get download {' '.join(PACKAGES)} failed (are Debian's or Ubuntu's "
                    "package sources reachable, with 'universe' enabled on Ubuntu?)"
                )
        CACHE.parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no tests/.cache
        staging = Path(tempfile.mkdtemp(prefix=".asterisk-", dir=CACHE.parent))
        for deb in sorted(Path(tmp).glob("*.deb")):
            _run(["dpkg-deb", "-x", str(deb), str(staging)], Path(tmp))
        (staging / ".complete").write_text(" ".join(PACKAGES) + "\n")
        shutil.rmtree(CACHE, ignore_errors=True)
        staging.replace(CACHE)
    return CACHE


def _download(where: Path) -> int:
    print(f"fetching {', '.join(PACKAGES)} (apt-get download)", file=sys.stderr)
    result = subprocess.run(
        ["apt-get", "download", "-qq", *PACKAGES],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        print(result.stderr.strip(), file=sys.stderr)
    return result.returncode


def _run(command: list[str], where: Path) -> None:
    result = subprocess.run(command, cwd=where, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:2])} failed: {result.stderr.strip()[-300:]} "
            "(the real-voice tests fetch Debian's asterisk sound packages; run "
            "./scripts/setup.sh test as root, or apt-get update first)"
        )


@cache
def texts() -> dict[str, str]:
    """What each prompt says, by name (from ``core-sounds-en.txt``)."""
    fetch()
    found = {}
    with gzip.open(TEXTS, "rt", encoding="utf-8") as lines:
        for line in lines:
            if ":" in line and not line.startswith(";"):
                name, text = line.split(":", 1)
                found[name.strip()] = text.strip()
    return found


def _load(path: Path) -> Floats:
    data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    mono = data.mean(axis=1)
    return np.asarray(soxr.resample(mono, rate, RATE, quality="HQ"), dtype=np.float64)


@cache
def prompt(name: str) -> Prompt:
    """One prompt, trimmed to its speech and scaled to ``SPEECH_DB`` RMS."""
    fetch()
    audio = _load(VOICE / f"{name}.wav")
    hop = RATE // 100
    levels = np.array(
        [rms_db(audio[i : i + hop]) for i in range(0, audio.size - hop + 1, hop)], dtype=float
    )
    loud = np.flatnonzero(levels >= levels.max() - TRIM_DB)
    speech = audio[loud[0] * hop : (loud[-1] + 1) * hop]
    speech = speech * 10 ** ((SPEECH_DB - rms_db(speech)) / 20)
    return Prompt(name, texts()[name], speech)


def _sentence(name: str, text: str) -> bool:
    """Whether a prompt is one whole sentence (capitalised, a final ".", "?" or "!", not
    "…"): the others are fragments spliced into longer prompts."""
    whole = text[:1].isupper() and text.endswith((".", "?", "!")) and not text.endswith("..")
    return whole and "/" not in name and 10 <= len(text) <= 90


@cache
def sentences(count: int = 60) -> tuple[Prompt, ...]:
    """``count`` whole sentences of 0.8–4 s, spread evenly over the prompts' names."""
    names = [n for n, t in sorted(texts().items()) if _sentence(n, t)]
    names = [n for n in names if (VOICE / f"{n}.wav").exists()]
    found = [prompt(n) for n in names]
    fit = [p for p in found if 0.8 <= p.audio.size / RATE <= 4.0]
    if len(fit) < count:
        raise RuntimeError(f"only {len(fit)} whole-sentence prompts of 0.8–4 s in {VOICE}")
    step = len(fit) / count
    return tuple(fit[int(i * step)] for i in range(count))


@cache
def music(seconds: float, piece: int = 0) -> Floats:
    """``seconds`` of one of the music-on-hold pieces (looped if short), at 0 dBFS RMS."""
    fetch()
    paths = sorted(MUSIC.glob("*.wav"))
    audio = _load(paths[piece % len(paths)])
    start = min(audio.size // 4, max(audio.size - int(seconds * RATE), 0))
    need = int(seconds * RATE)
    reps = -(-(need + start) // audio.size)
    looped = np.tile(audio, reps)[start : start + need]
    return looped * 10 ** ((0.0 - rms_db(looped)) / 20)


def main() -> int:
    """Fetch the recordings (``./scripts/setup.sh test`` runs this); 1 with one line on failure."""
    try:
        where = fetch()
        count = len(texts())
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        print(
            f"voiced setup: the real-voice recordings could not be fetched: {exc}", file=sys.stderr
        )
        return 1
    print(f"recordings ready in {os.path.relpath(where)}: {count} prompt texts", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
