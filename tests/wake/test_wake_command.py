"""``voiced wake --list`` and ``voiced wake --test FILE``, run as real processes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.audio.signals import write_wav
from tests.audio.speech import RATE, speak
from tests.wake.clips import OTHER_SPEECH, lay_out, one_breath
from tests.wake.run import voiced
from voiced.config.wakemodel import find_model

pytestmark = pytest.mark.subprocess


def test_list_shows_every_bundled_word_with_its_phrase_and_cutoff(tmp_path: Path) -> None:
    result = voiced(tmp_path, "wake", "--list")
    assert result.returncode == 0
    rows = {line[2:].split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert set(rows) == {"okay_nabu", "hey_jarvis", "alexa", "hey_mycroft"}
    assert rows["okay_nabu"].startswith("* ") and "Okay Nabu" in rows["okay_nabu"]
    assert "0.85" in rows["okay_nabu"]
    assert rows["hey_mycroft"].startswith("  ") and "0.95" in rows["hey_mycroft"]


def test_list_stars_the_configured_word_and_cutoff(tmp_path: Path) -> None:
    config = '[wake]\nword = "hey_mycroft"\ncutoff = 0.9\n'
    result = voiced(tmp_path, "wake", "--list", config=config)
    starred = [line for line in result.stdout.splitlines() if line.startswith("*")]
    assert len(starred) == 1 and "hey_mycroft" in starred[0]
    assert "(configured: 0.9)" in starred[0]


def test_list_shows_a_custom_word_with_its_file(tmp_path: Path) -> None:
    bundled = find_model("hey_mycroft")
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(bundled.tflite, folder / "hey_mycroft.tflite")
    shutil.copy(bundled.config, folder / "mine.json")
    result = voiced(tmp_path, "wake", "--list", config=f'[wake]\nword = "{folder}/mine.json"\n')
    assert result.returncode == 0
    starred = [line for line in result.stdout.splitlines() if line.startswith("*")]
    assert len(starred) == 1 and "mine" in starred[0] and str(folder / "mine.json") in starred[0]


def test_test_reports_where_the_word_is_and_its_score(tmp_path: Path) -> None:
    clip = one_breath("okay_nabu", "en-us", 175)
    wav = write_wav(tmp_path / "question.wav", clip.audio, RATE)
    result = voiced(tmp_path, "wake", "--test", str(wav))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    found = re.fullmatch(
        r"0:(\d\d\.\d\d)–0:(\d\d\.\d\d)  'Okay Nabu' score (0\.\d+) \(peak (0\.\d+)\)", lines[0]
    )
    assert found, lines
    start, end = clip.words[0]
    assert abs(float(found[1]) - start / RATE) < 0.5
    assert start / RATE < float(found[2]) < end / RATE
    assert 0.85 < float(found[3]) <= float(found[4])
    assert lines[1].startswith("1 detection of okay_nabu at cut-off 0.85; best score")


def test_test_shows_a_detection_the_verifier_refused_and_does_not_count_it(
    tmp_path: Path,
) -> None:
    clip = lay_out("near", [3.0, ("speech", speak("Okay, go ahead.", "en-029+m6", 182)), 1.5])
    wav = write_wav(tmp_path / "near.wav", clip.audio, RATE)
    result = voiced(tmp_path, "wake", "--test", str(wav))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(
        r"0:0\d\.\d\d–0:0\d\.\d\d  'Okay Nabu' score 0\.\d{3} refused: the second model "
        r"scored 0\.\d{3}, below 0\.9 \(\[wake\] verify = false would count it\)",
        lines[0],
    ), lines
    assert lines[-1].startswith("no detection of okay_nabu at cut-off 0.85")
    assert lines[-1].endswith(", 1 refused by the second model")
    counted = voiced(tmp_path, "wake", "--test", str(wav), config="[wake]\nverify = false\n")
    assert counted.stdout.splitlines()[-1].startswith("1 detection of okay_nabu")


def test_test_without_the_word_reports_the_best_score_seen(tmp_path: Path) -> None:
    clip = lay_out("other", [1.0, ("speech", speak(OTHER_SPEECH[0], "en-gb", 175)), 1.0])
    wav = write_wav(tmp_path / "other.wav", clip.audio, RATE)
    result = voiced(tmp_path, "wake", "--test", str(wav))
    assert result.returncode == 0
    assert re.fullmatch(
        r"no detection of okay_nabu at cut-off 0\.85; best score 0\.\d{3} at 0:\d\d\.\d\d.*",
        result.stdout.strip(),
    )


def test_test_with_a_lower_cutoff_hears_a_low_scoring_voice(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "f2.wav", one_breath("okay_nabu", "en+f2", 175).audio, RATE)
    missed = voiced(tmp_path, "wake", "--test", str(wav))
    assert missed.stdout.startswith("no detection")
    hint = re.search(r"--cutoff (0\.\d\d)\)", missed.stdout)
    assert hint, missed.stdout
    heard = voiced(tmp_path, "wake", "--test", str(wav), "--cutoff", hint[1])
    assert heard.stdout.splitlines()[-1].startswith(
        f"1 detection of okay_nabu at cut-off {hint[1]}"
    )


def test_test_with_another_word(tmp_path: Path) -> None:
    clip = lay_out("mycroft", [2.0, ("word", speak("Hey Mycroft", "en-gb", 175)), 2.0])
    wav = write_wav(tmp_path / "mycroft.wav", clip.audio, RATE)
    result = voiced(tmp_path, "wake", "--test", str(wav), "--word", "hey_mycroft")
    assert "'Hey Mycroft' score" in result.stdout
    assert "1 detection of hey_mycroft at cut-off 0.95" in result.stdout


def test_test_of_a_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    result = voiced(tmp_path, "wake", "--test", str(tmp_path / "nothing.wav"))
    assert result.returncode == 2
    assert result.stderr == f"voiced: {tmp_path / 'nothing.wav'}: no such file (check the path)\n"


def test_wake_needs_list_or_test(tmp_path: Path) -> None:
    result = voiced(tmp_path, "wake")
    assert result.returncode == 2 and "one of the arguments --list --test is required" in (
        result.stderr
    )


def test_an_out_of_range_cutoff_is_refused(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "q.wav", one_breath("okay_nabu", "en-us", 175).audio, RATE)
    result = voiced(tmp_path, "wake", "--test", str(wav), "--cutoff", "1.5")
    assert result.returncode == 2 and "--cutoff 1.5 is out of range" in result.stderr
