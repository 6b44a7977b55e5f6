"""A custom wake-word model that is missing, corrupt or not a model: a one-line error naming the
file, from the config loader and from the commands, and never a crash of the process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.audio.signals import write_wav
from tests.procs import run_voiced, user_env
from tests.wake.run import voiced
from voiced.config import WakeSettings, load_settings
from voiced.config.wakemodel import find_model
from voiced.errors import ConfigError
from voiced.wake.detector import WakeDetector


def custom(folder: Path, json_text: str | None = None, tflite: bytes | None = None) -> Path:
    """A copy of okay_nabu as a custom model, with its JSON or .tflite replaced."""
    bundled = find_model("okay_nabu")
    folder.mkdir(exist_ok=True)
    config = folder / "word.json"
    config.write_text(json_text if json_text is not None else bundled.config.read_text())
    (folder / "okay_nabu.tflite").write_bytes(
        tflite if tflite is not None else bundled.tflite.read_bytes()
    )
    return config


def corrupt_body() -> bytes:
    """okay_nabu's .tflite with its header intact and everything after 2 kB scrambled: the
    TFLite C library, given it, returns NULL and pymicro-wakeword segfaults on it."""
    data = bytearray(find_model("okay_nabu").tflite.read_bytes())
    data[2000:] = np.random.default_rng(1).integers(0, 256, len(data) - 2000, np.uint8).tobytes()
    return bytes(data)


def test_a_copy_of_a_bundled_model_works_as_a_custom_one(tmp_path: Path) -> None:
    settings = WakeSettings(word=str(custom(tmp_path / "m")))
    assert not settings.model.bundled and settings.model.phrase == "Okay Nabu"
    WakeDetector.from_settings(settings)


def test_an_unknown_bundled_name_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        WakeSettings(word="hey_computer")
    assert "no bundled wake word 'hey_computer'" in caught.value.message
    assert "alexa, hey_jarvis, hey_mycroft, okay_nabu" in caught.value.hint


def test_a_missing_json_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"{tmp_path}/nope.json: no such wake-word model file"):
        WakeSettings(word=str(tmp_path / "nope.json"))


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"wake_word": "x",', "not valid JSON (line 1"),
        ("[1, 2]", "must be a JSON object"),
        ('{"model": "okay_nabu.tflite", "micro": {}}', '"wake_word" must be the phrase'),
        ('{"wake_word": "Hi", "micro": {}}', '"model" must name the .tflite'),
        ('{"wake_word": "Hi", "model": "okay_nabu.tflite"}', 'no "micro" settings'),
        (
            '{"wake_word": "Hi", "model": "okay_nabu.tflite", "micro": {"sliding_window_size": 5}}',
            "probability_cutoff",
        ),
        (
            '{"wake_word": "Hi", "model": "okay_nabu.tflite",'
            ' "micro": {"probability_cutoff": 0.9, "sliding_window_size": "5"}}',
            "sliding_window_size",
        ),
        (
            '{"wake_word": "Hi", "model": "https://example.org/m.tflite",'
            ' "micro": {"probability_cutoff": 0.9, "sliding_window_size": 5}}',
            "is a URL",
        ),
        ('{"type": "openWakeWord", "wake_word": "Hi"}', "not a microWakeWord one"),
    ],
)
def test_a_malformed_json_names_the_file_and_what_is_wrong(
    tmp_path: Path, text: str, why: str
) -> None:
    config = custom(tmp_path / "m", json_text=text)
    with pytest.raises(ConfigError) as caught:
        WakeSettings(word=str(config))
    assert str(config) in caught.value.message and why in caught.value.message


def test_a_missing_tflite_names_it(tmp_path: Path) -> None:
    config = custom(tmp_path / "m")
    (tmp_path / "m" / "okay_nabu.tflite").unlink()
    with pytest.raises(ConfigError, match=f"{tmp_path}/m/okay_nabu.tflite: no such wake-word"):
        WakeSettings(word=str(config))


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "no TFL3 identifier"),
        (b"\x00" * 4 + b"JUNK" + b"\x00" * 100, "no TFL3 identifier"),
        (b"not a model at all, just some text", "no TFL3 identifier"),
    ],
)
def test_a_tflite_that_is_not_a_model_is_refused_when_the_config_loads(
    tmp_path: Path, data: bytes, why: str
) -> None:
    config = custom(tmp_path / "m", tflite=data)
    with pytest.raises(ConfigError, match=why):
        WakeSettings(word=str(config))


def test_a_corrupt_tflite_is_refused_before_tensorflow_lite_loads_it(tmp_path: Path) -> None:
    settings = WakeSettings(word=str(custom(tmp_path / "m", tflite=corrupt_body())))
    with pytest.raises(ConfigError) as caught:
        WakeDetector.from_settings(settings)
    assert f"{tmp_path}/m/okay_nabu.tflite: not a usable wake-word model" in caught.value.message
    assert "not a valid Flatbuffer" in caught.value.message


def test_a_truncated_tflite_is_refused(tmp_path: Path) -> None:
    data = find_model("okay_nabu").tflite.read_bytes()[:20000]
    settings = WakeSettings(word=str(custom(tmp_path / "m", tflite=data)))
    with pytest.raises(ConfigError, match="not a usable wake-word model"):
        WakeDetector.from_settings(settings)


def test_the_config_file_names_itself_and_the_model(tmp_path: Path) -> None:
    toml = tmp_path / "config.toml"
    toml.write_text(f'[wake]\nword = "{tmp_path}/gone.json"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings({"VOICED_CONFIG": str(toml), "HOME": str(tmp_path)})
    assert caught.value.message.startswith(f"{toml}: {tmp_path}/gone.json: no such wake-word")


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("cutoff", 0.0, "[wake] cutoff must be between 0.01 and 0.99"),
        ("cutoff", 1.0, "[wake] cutoff must be between 0.01 and 0.99"),
        ("wait_s", 0.0, "[wake] wait_s must be above 0"),
        ("refractory_s", -1.0, "[wake] refractory_s must be between 0 and 30"),
    ],
)
def test_out_of_range_values_name_the_key(key: str, value: float, why: str) -> None:
    with pytest.raises(ConfigError, match=why.replace("[", r"\[").replace("]", r"\]")):
        WakeSettings(**{key: value})  # type: ignore[arg-type]


@pytest.mark.subprocess
def test_the_command_with_a_corrupt_model_exits_with_an_error_not_a_crash(tmp_path: Path) -> None:
    config = custom(tmp_path / "m", tflite=corrupt_body())
    wav = write_wav(tmp_path / "q.wav", np.zeros(16000, np.int16), 16000)
    result = voiced(tmp_path, "wake", "--test", str(wav), "--word", str(config))
    assert result.returncode == 2, result  # a segmentation fault would be -11
    assert result.stderr.startswith(f"voiced: {tmp_path}/m/okay_nabu.tflite: not a usable")
    assert result.stderr.count("\n") == 1 and "Flatbuffer" in result.stderr


@pytest.mark.subprocess
def test_a_broken_config_model_stops_the_command_with_the_file_named(tmp_path: Path) -> None:
    config = custom(tmp_path / "m", json_text=json.dumps({"wake_word": "Hi"}))
    result = voiced(tmp_path, "wake", "--list", config=f'[wake]\nword = "{config}"\n')
    assert result.returncode == 2
    assert f"{config}: not a microWakeWord model file" in result.stderr


def test_a_model_replaced_by_a_folder_is_refused(tmp_path: Path) -> None:
    config = custom(tmp_path / "m")
    (tmp_path / "m" / "okay_nabu.tflite").unlink()
    (tmp_path / "m" / "okay_nabu.tflite").mkdir()
    with pytest.raises(ConfigError, match="a folder, not a wake-word model"):
        WakeSettings(word=str(config))
    shutil.rmtree(tmp_path / "m")


def test_a_model_damaged_while_in_use_is_refused_at_reset(tmp_path: Path) -> None:
    detector = WakeDetector.from_settings(WakeSettings(word=str(custom(tmp_path / "m"))))
    (tmp_path / "m" / "okay_nabu.tflite").write_bytes(corrupt_body())
    with pytest.raises(ConfigError, match="not a usable wake-word model"):
        detector.reset()  # reloading it unchecked would crash the process


@pytest.mark.subprocess
def test_the_daemon_with_a_corrupt_model_does_not_start_half_working(tmp_path: Path) -> None:
    config = custom(tmp_path / "m", tflite=corrupt_body())
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = user_env(
        tmp_path,
        XDG_RUNTIME_DIR=str(runtime),
        GROQ_API_KEY="gsk_test_0123456789abcdefghijklmnop",
        VOICED_CONFIG=str(_config_file(tmp_path, f'[wake]\nword = "{config}"\n')),
    )
    result = run_voiced("daemon", env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"voiced: {tmp_path}/m/okay_nabu.tflite: not a usable")
    assert result.stderr.count("\n") == 1, result.stderr
    assert not list(runtime.rglob("*.sock")), "no control socket: it never started"


def _config_file(home: Path, text: str) -> Path:
    path = home / "config.toml"
    path.write_text(text)
    return path
