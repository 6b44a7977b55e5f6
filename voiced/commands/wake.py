"""``voiced wake``: list the bundled wake words, or find the wake word in an audio file."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from voiced.commands.common import settings
from voiced.config import WakeSettings
from voiced.config.wakemodel import WakeModel, bundled_names, find_model
from voiced.errors import InputError

if TYPE_CHECKING:
    from voiced.wake.detector import WakeDetection


def run(args: argparse.Namespace) -> int:
    """``--list`` prints the words; ``--test FILE`` prints each detection and the best score."""
    configured = settings().wake
    if args.list:
        print_list(configured)
        return 0
    wake = configured
    if args.word is not None:
        wake = replace(wake, word=args.word)  # validates the word
    if args.cutoff is not None:
        if not 0 < args.cutoff < 1:
            raise InputError(f"--cutoff {args.cutoff:g} is out of range", "give a number 0–1")
        wake = replace(wake, cutoff=args.cutoff)
    test_file(Path(args.test), wake)
    return 0


def print_list(configured: WakeSettings) -> None:
    """One line per bundled word (and the configured custom one), the configured one starred."""
    models = [find_model(name) for name in bundled_names()]
    chosen = configured.model
    if not chosen.bundled:
        models.append(chosen)
    width = max(len(m.name) for m in models)
    phrase_width = max(len(m.phrase) for m in models)
    print(f"  {'WORD':<{width}}  {'SAY':<{phrase_width}}  CUT-OFF")
    for model in models:
        mine = model.config == chosen.config
        cutoff = f"{model.cutoff:g}"
        if mine and configured.cutoff is not None:
            cutoff += f" (configured: {configured.cutoff:g})"
        where = "" if model.bundled else f"  {model.config}"
        print(
            f"{'*' if mine else ' '} {model.name:<{width}}  {model.phrase:<{phrase_width}}  "
            f"{cutoff}{where}"
        )


def test_file(path: Path, wake: WakeSettings) -> None:
    """Run the detector over every frame of ``path`` and print what it found.

    Raises:
        InputError: The file is missing, unreadable or not audio.
        ConfigError: The wake-word model is missing or malformed.
    """
    from voiced.audio.filesource import open_reader
    from voiced.audio.frames import SAMPLE_RATE, Framer
    from voiced.wake.detector import WakeDetector, verifier_for

    model = wake.model
    verifier = verifier_for(model, wake.verify, wake.cutoff)
    detector = WakeDetector(model, wake.cutoff, wake.refractory_s, verifier)
    refused = 0
    reader = open_reader(path)
    framer = Framer()
    best, best_at, found = 0.0, 0, 0
    shown: tuple[WakeDetection, float] | None = None
    """The latest detection, and the highest score within its refractory period."""
    try:
        while True:
            block = reader.read()
            for frame in framer.flush() if block is None else framer.push(block):
                new = detector.feed(frame)
                if shown is not None and (new or frame.end > shown[0].end + detector.refractory):
                    _show(model, *shown)
                    shown = None
                for detection in new:
                    found += 1
                    shown = (detection, detection.score)
                if shown is not None:
                    shown = (shown[0], max(shown[1], detector.probability))
                if verifier is not None and verifier.refused > refused:
                    refused = verifier.refused
                    _refused(model, *verifier.refusals[-1], verifier.cutoff)
                if detector.probability > best:
                    best, best_at = detector.probability, frame.end
            if block is None:
                break
    finally:
        reader.close()
    if shown is not None:
        _show(model, *shown)
    print(_summary(model, detector.cutoff, found, best, best_at / SAMPLE_RATE, refused))


def _show(model: WakeModel, detection: WakeDetection, peak: float) -> None:
    start, end = detection.seconds
    print(
        f"{_clock(start)}–{_clock(end)}  {model.phrase!r} "
        f"score {detection.score:.3f} (peak {peak:.3f})"
    )


def _refused(model: WakeModel, detection: WakeDetection, second: float, cutoff: float) -> None:
    start, end = detection.seconds
    print(
        f"{_clock(start)}–{_clock(end)}  {model.phrase!r} score {detection.score:.3f} refused: "
        f"the second model scored {second:.3f}, below {cutoff:g} ([wake] verify = false "
        "would count it)"
    )


def _summary(
    model: WakeModel, cutoff: float, found: int, best: float, at: float, refused: int = 0
) -> str:
    said = f"{found} detection{'s' if found != 1 else ''}" if found else "no detection"
    line = f"{said} of {model.name} at cut-off {cutoff:g}; best score {best:.3f} at {_clock(at)}"
    if refused:
        line += f", {refused} refused by the second model"
    elif not found and best > 0.05:
        line += f" (a cut-off below {best:.2f} would hear it: --cutoff {best - 0.02:.2f})"
    return line


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:05.2f}"
