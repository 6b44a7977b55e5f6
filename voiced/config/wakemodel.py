"""Wake-word models: the four bundled with pymicro-wakeword, or a microWakeWord JSON file.

Only the standard library is used here, so checking a ``[wake] word`` while the config loads
costs a directory listing (bundled) or a JSON read and an 8-byte look at the model (custom).
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voiced.errors import ConfigError

MAX_MODEL_BYTES = 16 * 1024 * 1024
"""Largest .tflite accepted (microWakeWord models are 50–100 kB)."""
TFLITE_IDENTIFIER = b"TFL3"
"""The FlatBuffer file identifier of a TensorFlow Lite model, at bytes 4..8."""
FEATURE_STEP_MS = 10
"""The feature step the detector's front end computes (microWakeWord's only one)."""
HOW_TO_GET = "microWakeWord models are a JSON file next to their .tflite"


@dataclass(frozen=True)
class WakeModel:
    """A wake-word model, checked: its files exist and look like what they claim to be."""

    name: str
    """The bundled name ("okay_nabu"), or the custom model's file stem."""
    phrase: str
    """What to say, from the JSON's ``wake_word`` ("Okay Nabu")."""
    config: Path
    """The microWakeWord JSON file."""
    tflite: Path
    """The TensorFlow Lite model the JSON names."""
    cutoff: float
    """The model's own detection cut-off (``micro.probability_cutoff``)."""
    window: int
    """Probabilities averaged before the cut-off is applied (``micro.sliding_window_size``)."""
    languages: tuple[str, ...] = ()
    """Languages the model was trained on, when its JSON says."""
    bundled: bool = False
    """Whether it ships with pymicro-wakeword."""


def package_dir() -> Path | None:
    """The installed pymicro_wakeword package folder (found without importing it), or None."""
    try:
        spec = importlib.util.find_spec("pymicro_wakeword")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_names() -> list[str]:
    """Names of the models shipped with pymicro-wakeword, sorted ([] when it is missing)."""
    folder = package_dir()
    if folder is None:
        return []
    return sorted(p.stem for p in (folder / "models").glob("*.json"))


def is_path(word: str) -> bool:
    """Whether a ``[wake] word`` names a file rather than a bundled model."""
    return "/" in word or word.endswith(".json") or word.startswith("~")


def find_model(word: str) -> WakeModel:
    """Resolve a ``[wake] word``: a bundled name, or the path of a microWakeWord JSON file.

    Raises:
        ConfigError: An unknown name (the message lists the bundled ones), or a custom model
            whose JSON or .tflite is missing, unreadable or malformed (the message names it).
    """
    if is_path(word):
        return read_model(Path(word).expanduser(), bundled=False)
    names = bundled_names()
    if word not in names:
        if not names:
            raise ConfigError(
                "[wake] word: pymicro-wakeword is not installed, so no bundled word exists",
                "reinstall voiced: pip install -e .",
            )
        raise ConfigError(
            f"[wake] word: no bundled wake word {word!r}",
            f"use one of {', '.join(names)}, or the path of a microWakeWord JSON file",
        )
    folder = package_dir()
    assert folder is not None
    return read_model(folder / "models" / f"{word}.json", bundled=True)


def read_model(config: Path, bundled: bool = False) -> WakeModel:
    """Read and check a microWakeWord JSON file and the start of the model it names.

    Raises:
        ConfigError: The JSON is missing, unreadable, not JSON, or lacks ``wake_word``,
            ``model`` or ``micro`` settings; or the .tflite is missing, empty, too big or
            not a TensorFlow Lite model. The message names the file.
    """
    data = _read_json(config)
    phrase = data.get("wake_word")
    model = data.get("model")
    micro = data.get("micro")
    kind = data.get("type", "micro")
    if kind != "micro":
        raise ConfigError(f"{config}: a {kind!r} model, not a microWakeWord one", HOW_TO_GET)
    if not isinstance(phrase, str) or not phrase.strip():
        raise _bad(config, '"wake_word" must be the phrase, e.g. "Okay Nabu"')
    if not isinstance(model, str) or not model:
        raise _bad(config, '"model" must name the .tflite file beside it')
    if "://" in model:
        raise _bad(config, f'"model" is a URL ({model}): download it beside the JSON and name it')
    if not isinstance(micro, dict):
        raise _bad(config, 'it has no "micro" settings')
    cutoff = micro.get("probability_cutoff")
    window = micro.get("sliding_window_size")
    step = micro.get("feature_step_size", FEATURE_STEP_MS)
    if not isinstance(cutoff, int | float) or isinstance(cutoff, bool) or not 0 < cutoff < 1:
        raise _bad(config, '"micro.probability_cutoff" must be a number between 0 and 1')
    if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 100:
        raise _bad(config, '"micro.sliding_window_size" must be a whole number from 1 to 100')
    if step != FEATURE_STEP_MS:
        raise _bad(config, f'"micro.feature_step_size" is {step!r}; only 10 (ms) is supported')
    languages = data.get("trained_languages", [])
    tflite = config.parent / model
    check_tflite(tflite)
    return WakeModel(
        name=config.stem,
        phrase=phrase.strip(),
        config=config,
        tflite=tflite,
        cutoff=float(cutoff),
        window=window,
        languages=tuple(str(x) for x in languages) if isinstance(languages, list) else (),
        bundled=bundled,
    )


def check_tflite(path: Path) -> None:
    """Check that ``path`` is a readable file of sane size starting like a TFLite model.

    The TensorFlow Lite library crashes the process on some malformed models, so this and the
    library's own verifier (``engine.verify``) run before it ever loads one.

    Raises:
        ConfigError: Missing, unreadable, empty, over ``MAX_MODEL_BYTES``, or without the
            ``TFL3`` identifier.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such wake-word model", HOW_TO_GET) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: a folder, not a wake-word model", HOW_TO_GET) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the wake-word model: {exc.strerror}") from None
    if size > MAX_MODEL_BYTES:
        raise ConfigError(
            f"{path}: {size} bytes is too big for a wake-word model",
            f"microWakeWord models are well under {MAX_MODEL_BYTES // 1024 // 1024} MB",
        )
    if len(head) < 8 or head[4:8] != TFLITE_IDENTIFIER:
        raise ConfigError(
            f"{path}: not a TensorFlow Lite model (no TFL3 identifier)",
            "the file is damaged or of another kind: get the .tflite again",
        )


def _read_json(config: Path) -> dict[str, Any]:
    try:
        text = config.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{config}: no such wake-word model file", HOW_TO_GET) from None
    except IsADirectoryError:
        raise ConfigError(f"{config}: a folder, not a microWakeWord JSON file") from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"{config}: cannot read the wake-word model file: {why}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{config}: not valid JSON (line {exc.lineno}: {exc.msg})", HOW_TO_GET
        ) from None
    if not isinstance(data, dict):
        raise _bad(config, "it must be a JSON object")
    return data


def _bad(config: Path, why: str) -> ConfigError:
    return ConfigError(f"{config}: not a microWakeWord model file: {why}", HOW_TO_GET)
