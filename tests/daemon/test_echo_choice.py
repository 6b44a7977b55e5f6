"""``[audio] echo_cancel``: when voiced runs its own echo canceller, and how it falls back to the
hold path (saying so in the log) when the canceller does not keep the echo out."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from voiced.audio.echo import WARM_UP_S, EchoMeter
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE
from voiced.audio.soundserver import SoundServer, parse_sinks
from voiced.config import Settings, load_settings
from voiced.pipeline.aec import JUDGED_FRAMES, EchoState
from voiced.pipeline.ends import EchoChoice, choose_echo
from voiced.protocol.events import Event
from voiced.protocol.reports import LogRecord

REPLY = (
    "Here is a long answer, so that there is time to talk over it. It goes on for a while, "
    "sentence after sentence, about nothing much at all."
)
SINKS = """\
Sink #0
\tState: RUNNING
\tName: alsa_output.pci-0000_00_1f.3.analog-stereo
\tDescription: Built-in Audio Analog Stereo
\tActive Port: analog-output-speaker
\tProperties:
\t\tdevice.form_factor = "internal"
Sink #1
\tName: bluez_output.AA_BB_CC.1
\tDescription: WH-1000XM4
\tActive Port: headset-output
\tProperties:
\t\tdevice.form_factor = "headset"
"""


def settings(home: Path, mode: str = "auto", **daemon: object) -> Settings:
    loaded = load_settings({"HOME": str(home)})
    return replace(
        loaded,
        audio=replace(loaded.audio, echo_cancel=mode),
        daemon=replace(loaded.daemon, **daemon),
    )


def server(default_sink: str, default_source: str = "alsa_input.analog-stereo") -> SoundServer:
    return SoundServer(
        name="PulseAudio",
        default_source=default_source,
        sources=(default_source,),
        echo_modules=0,
        default_sink=default_sink,
        sinks=parse_sinks(SINKS),
    )


def test_auto_cancels_the_echo_of_a_laptop_speaker(tmp_path: Path) -> None:
    choice = choose_echo(settings(tmp_path), server("alsa_output.pci-0000_00_1f.3.analog-stereo"))
    assert choice == EchoChoice(True, False, "the speaker can reach the microphone")


def test_auto_is_off_for_a_headset_and_says_why(tmp_path: Path) -> None:
    choice = choose_echo(settings(tmp_path), server("bluez_output.AA_BB_CC.1"))
    assert not choice.aec and not choice.external
    assert "WH-1000XM4" in choice.why and "form factor 'headset'" in choice.why


def test_auto_is_off_when_the_microphone_is_already_echo_cancelled(tmp_path: Path) -> None:
    found = server("alsa_output.pci-0000_00_1f.3.analog-stereo", default_source="echocancel")
    choice = choose_echo(settings(tmp_path), found)
    assert not choice.aec and choice.external and "echocancel is echo-cancelled" in choice.why
    told = choose_echo(settings(tmp_path, echo_cancelled=True), None)
    assert not told.aec and told.external


def test_on_and_off_are_obeyed_and_a_replay_without_a_room_needs_none(tmp_path: Path) -> None:
    headset = server("bluez_output.AA_BB_CC.1")
    assert choose_echo(settings(tmp_path, "on"), headset).aec
    assert not choose_echo(settings(tmp_path, "off"), None).aec
    assert not choose_echo(settings(tmp_path), None, replay=True).aec
    assert choose_echo(settings(tmp_path), None, replay=True, room=True).aec


def poor_meter(erle_db: float) -> EchoMeter:
    """A meter that heard a reply's echo for 2 s, cleaned by ``erle_db``."""
    meter = EchoMeter()
    meter.begin_reply()
    frames = round(2 * WARM_UP_S * SAMPLE_RATE / FRAME_SAMPLES)
    for i in range(frames):
        meter.add(i * FRAME_SAMPLES, erle_db)
    return meter


@pytest.mark.parametrize(("erle", "trusted"), [(35.0, True), (6.0, False)])
def test_speech_over_a_reply_stops_it_only_while_the_echo_is_kept_out(
    tmp_path: Path, erle: float, trusted: bool
) -> None:
    choice = choose_echo(settings(tmp_path), None)
    state = EchoState(choice, poor_meter(erle), 20.0, lambda event: None)
    assert state.cancelled() is trusted


def test_a_reply_whose_echo_stayed_loud_falls_back_to_the_hold_path_and_says_so(
    tmp_path: Path,
) -> None:
    published: list[Event] = []
    choice = choose_echo(settings(tmp_path), None)
    state = EchoState(choice, poor_meter(6.0), 20.0, published.append)
    assert state.reply_ended() == 6.0
    assert poor_meter(6.0).reply_frames() >= JUDGED_FRAMES
    (warning,) = published
    assert isinstance(warning, LogRecord) and warning.level == "warning"
    assert "ERLE 6.0 dB" in warning.message and "held until its transcript" in warning.message
    assert not state.cancelled() and "poor" in state.describe()
    state.meter = poor_meter(35.0)  # the sound comes back through the speaker it is fed from
    assert state.reply_ended() == 35.0 and state.cancelled()
    assert isinstance(published[-1], LogRecord) and "works again" in published[-1].message


def test_what_is_left_of_voiceds_echo_is_told_from_the_users_voice_over_it(
    tmp_path: Path,
) -> None:
    """In a reverberant room AEC3 leaves some of voiced's voice, loud enough for the segmenter;
    it took most of what the microphone heard out of it, which it does not do to the user's
    voice (as loud as the echo or louder; AEC3's suppressor does cut a voice well under the
    echo in double talk): that residual is never barge-in, the user over it is."""
    import numpy as np

    from tests.audio.speech import speak
    from voiced.audio.echo import EchoCanceller
    from voiced.audio.frames import Frame

    rng = np.random.default_rng(3)
    far = np.clip(np.rint(speak(REPLY) * 0.7 * 32767), -32768, 32767).astype(np.int16)
    tail = rng.normal(0, 1, 8000) * np.exp(-6.9 * np.arange(8000) / 8000)
    room = np.concatenate((np.zeros(1280), [1.0], tail * 0.06))  # 80 ms late, RT60 0.5 s
    echo = np.convolve(far.astype(np.float64), room)[: far.size] * 0.5
    user_at = 3 * SAMPLE_RATE
    user = speak("Wait, tell me the weather instead.", "en-gb") * 32767
    mic = echo + rng.normal(0, 30, far.size)
    mic[user_at : user_at + user.size] += user[: far.size - user_at]
    mic16 = np.clip(np.rint(mic), -32768, 32767).astype(np.int16)

    class Played:
        def read(self, at: int, count: int) -> np.ndarray | None:
            out = np.zeros(count, dtype=np.int16)
            out[: max(0, min(count, far.size - at))] = far[at : at + count]
            return out

    canceller = EchoCanceller(Played())
    state = EchoState(choose_echo(settings(tmp_path), None), canceller.meter, 20.0, print)
    echo_only, users = [], []
    window = 300 * SAMPLE_RATE // 1000
    for start in range(0, far.size - 2 * FRAME_SAMPLES, 2 * FRAME_SAMPLES):
        block = [Frame(mic16[s : s + FRAME_SAMPLES], s) for s in (start, start + FRAME_SAMPLES)]
        canceller.process(block, start)
        end = start + 2 * FRAME_SAMPLES
        heard = mic16[end - window : end].astype(np.float64)
        loud = 10 * np.log10(float(heard @ heard) / window / 30**2 + 1e-9) > 25  # well over noise
        if 2 * SAMPLE_RATE < end <= user_at and loud:  # after AEC3 has converged
            echo_only.append(state.residual(300))
        elif user_at + window <= end <= user_at + user.size:
            said = user[end - window - user_at : end - user_at]
            heard_echo = echo[end - window : end]
            if float(said @ said) >= float(heard_echo @ heard_echo):  # as loud as the echo
                users.append(state.residual(300))
    assert echo_only and all(echo_only), f"{echo_only.count(False)} of {len(echo_only)} missed"
    assert users and not any(users), f"{sum(users)} of {len(users)} taken for echo"
