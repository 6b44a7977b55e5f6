"""The ``voiced`` command line: argument parsing and error reporting, nothing else."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from voiced import __version__
from voiced.errors import ApiError, VoicedError

Handler = Callable[[argparse.Namespace], int]

TRANSCRIPT_FORMATS = ("text", "json", "verbose_json", "srt", "vtt")


def _tui(args: argparse.Namespace) -> int:
    from voiced.commands import tui

    return tui.run(args)


def _daemon(args: argparse.Namespace) -> int:
    from voiced.commands import daemon

    return daemon.run(args)


def _control(args: argparse.Namespace) -> int:
    from voiced.commands import control

    return control.run(args)


def _service(args: argparse.Namespace) -> int:
    from voiced.commands import service

    return service.run(args)


def _doctor(args: argparse.Namespace) -> int:
    from voiced.commands import doctor

    return doctor.run(args)


def _ask(args: argparse.Namespace) -> int:
    from voiced.commands import ask

    return ask.run(args)


def _transcribe(args: argparse.Namespace) -> int:
    from voiced.commands import transcribe

    return transcribe.run(args)


def _listen(args: argparse.Namespace) -> int:
    from voiced.commands import listen

    return listen.run(args)


def _say(args: argparse.Namespace) -> int:
    from voiced.commands import say

    return say.run(args)


def _voices(args: argparse.Namespace) -> int:
    from voiced.commands import voices

    return voices.run(args)


def _history(args: argparse.Namespace) -> int:
    from voiced.commands import history

    return history.run(args)


def _devices(args: argparse.Namespace) -> int:
    from voiced.commands import devices

    return devices.run(args)


def _models(args: argparse.Namespace) -> int:
    from voiced.commands import models

    return models.run(args)


def _wake(args: argparse.Namespace) -> int:
    from voiced.commands import wake

    return wake.run(args)


def _tools(args: argparse.Namespace) -> int:
    from voiced.commands import tools as listing

    return listing.run(args)


def _mcp(args: argparse.Namespace) -> int:
    from voiced.commands import mcp

    return mcp.run(args)


def _config(args: argparse.Namespace) -> int:
    from voiced.commands import show_config

    return show_config.run(args)


def _chat_flags(ask: argparse.ArgumentParser) -> None:
    """The flags of ``voiced ask`` that override ``[chat]`` for one question (each ``dest``
    is the key it overrides; voiced.commands.askparams checks them)."""
    chat = ask.add_argument_group("sampling and reasoning, overriding [chat] for this question")
    chat.add_argument("--temperature", type=float, metavar="T", help="sampling temperature 0–2")
    chat.add_argument("--top-p", type=float, metavar="P", help="nucleus sampling 0–1")
    chat.add_argument(
        "--seed", type=int, metavar="N", help="seed for reproducible answers (0–2147483647)"
    )
    chat.add_argument(
        "--stop",
        action="append",
        metavar="TEXT",
        help="end the answer where the model would write TEXT (repeatable, at most 4 times)",
    )
    chat.add_argument(
        "--max-tokens",
        dest="max_completion_tokens",
        type=int,
        metavar="N",
        help="most tokens in the answer ([chat] max_completion_tokens)",
    )
    chat.add_argument(
        "--reasoning-format",
        choices=("parsed", "raw", "hidden"),
        help="how a reasoning model returns its reasoning (raw: not with tools or --json)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for every ``voiced`` command."""
    parser = argparse.ArgumentParser(
        prog="voiced",
        description="A hands-free voice assistant for the Linux desktop, on Groq.",
        epilog=(
            "Run `voiced` alone to open the terminal interface (it starts the daemon when none\n"
            "is running). Run `voiced COMMAND --help` for a command's options."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"voiced {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log requests and retries to stderr"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    # `voiced` alone: attach the TUI to the running daemon, or host one in its process.
    parser.set_defaults(handler=_tui, attach_only=False, socket=None)

    tui = commands.add_parser("tui", help="attach the terminal interface to the running daemon")
    tui.add_argument("--socket", type=Path, metavar="PATH", help="control socket path")
    tui.set_defaults(handler=_tui, attach_only=True)

    daemon = commands.add_parser(
        "daemon",
        help="run the assistant headless (systemd), or replay a file",
    )
    daemon.add_argument(
        "--input",
        type=Path,
        metavar="FILE",
        help="replay mode: this audio file is the microphone, paced in real time",
    )
    daemon.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="replay mode: write the audio voiced would have played (16 kHz WAV)",
    )
    daemon.add_argument(
        "--events",
        type=Path,
        metavar="FILE",
        help="replay mode: write every event as a JSON line, timed on the input",
    )
    daemon.add_argument(
        "--skip-idle",
        action="store_true",
        help="replay mode: do not wait through the input while voiced is idle (nothing "
        "heard, no turn, nothing playing); turns still run in real time and the output and "
        "events are the same, on the input's clock",
    )
    daemon.add_argument(
        "--echo-gain",
        type=float,
        metavar="GAIN",
        help="replay mode: a simulated room mixes voiced's output back into the input at this "
        "gain (0.5 is 6 dB down), so its echo can be tested from files",
    )
    daemon.add_argument(
        "--echo-delay-ms",
        type=float,
        metavar="MS",
        help="replay mode, with --echo-gain: how late the echo is heard (default 80)",
    )
    daemon.add_argument(
        "--echo-ir",
        type=Path,
        metavar="FILE",
        help="replay mode, with --echo-gain: a room impulse response (WAV) the echo goes through",
    )
    daemon.add_argument(
        "--socket",
        type=Path,
        metavar="PATH",
        help="control socket (replay mode uses a private one by default)",
    )
    daemon.set_defaults(handler=_daemon)

    status = commands.add_parser("status", help="show what the running daemon is doing")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(handler=_control, control="status")

    ptt = commands.add_parser("ptt", help="push-to-talk: hold the microphone open (for a hotkey)")
    ptt.add_argument("action", choices=("start", "stop", "toggle"))
    ptt.set_defaults(handler=_control, control="ptt")

    for name, what in (
        ("mute", "stop listening (typed messages are still answered)"),
        ("unmute", "listen again"),
    ):
        sub = commands.add_parser(name, help=what)
        sub.set_defaults(handler=_control, control=name)

    ask = commands.add_parser("ask", help="ask a question and stream the answer to stdout")
    ask.add_argument("text", nargs="*", help="the question (read from stdin when omitted)")
    ask.add_argument("--model", help="chat model id (default: [chat] model)")
    ask.add_argument("--system", help="system prompt for this question")
    ask.add_argument("--json", action="store_true", help="ask for a JSON object (JSON mode)")
    ask.add_argument(
        "--reasoning", action="store_true", help="also show the model's reasoning on stderr"
    )
    ask.add_argument("--speak", action="store_true", help="also speak the answer as it streams")
    ask.add_argument("--new", action="store_true", help="start a new conversation")
    ask.add_argument(
        "--no-tools", dest="tools", action="store_false", help="offer the model no tools this time"
    )
    _chat_flags(ask)
    ask.set_defaults(handler=_ask)

    dictate = commands.add_parser(
        "listen", help="dictation: print what is said, one utterance a line"
    )
    dictate.add_argument(
        "--json",
        action="store_true",
        help='one JSON object per utterance: {"start", "end", "text", "rejected"}',
    )
    dictate.add_argument(
        "--input",
        type=Path,
        metavar="FILE",
        help="use this audio file as the microphone (paced in real time); exit at its end",
    )
    dictate.add_argument(
        "--fast", action="store_true", help="with --input: read the file as fast as possible"
    )
    dictate.add_argument(
        "--device", help="microphone: index or part of its name (default: [audio] input_device)"
    )
    dictate.set_defaults(handler=_listen)

    say = commands.add_parser("say", help="speak text aloud, or write the speech to a WAV file")
    say.add_argument("text", nargs="*", help="what to say (read from stdin when omitted)")
    say.add_argument(
        "-o",
        "--output",
        metavar="FILE.wav",
        help="write the speech to this WAV file instead of playing it (- for stdout)",
    )
    say.add_argument(
        "--engine",
        choices=("espeak", "groq"),
        help="espeak (offline) or groq (Groq's neural voice) (default: [speech] engine)",
    )
    say.add_argument(
        "--voice",
        help="espeak-ng voice id, name or language, or with the groq engine a voice such as "
        "troy (default: [speech] voice or groq_voice)",
    )
    say.add_argument("--rate", type=int, help="words per minute, 80–450 (default: [speech] rate)")
    say.add_argument("--volume", type=float, help="0.0–1.0 (default: [speech] volume)")
    say.set_defaults(handler=_say)

    voices = commands.add_parser("voices", help="list the voices [speech] can name")
    voices.add_argument("--language", help="only voices for this language code, e.g. en or de")
    voices.add_argument(
        "--engine",
        choices=("espeak", "groq"),
        help="whose voices: espeak-ng's, or the Groq model's (default: [speech] engine)",
    )
    voices.set_defaults(handler=_voices)

    for name, what in (
        ("transcribe", "transcribe an audio file to text"),
        ("translate", "translate an audio file's speech into English text"),
    ):
        sub = commands.add_parser(name, help=what)
        sub.add_argument("file", help="audio file (flac mp3 mp4 mpeg mpga m4a ogg opus wav webm)")
        sub.add_argument(
            "--format",
            choices=TRANSCRIPT_FORMATS,
            default="text",
            help="output format (default: text)",
        )
        sub.add_argument("--model", help="speech model id (default from [stt])")
        sub.add_argument("--prompt", help="vocabulary or style hint (at most 896 characters)")
        sub.add_argument("--temperature", type=float, help="sampling temperature 0–1")
        if name == "transcribe":
            sub.add_argument("--language", help="ISO-639-1 code of the speech, e.g. en")
        sub.set_defaults(handler=_transcribe, translate=name == "translate")

    history = commands.add_parser("history", help="list, show, search or export past conversations")
    shown = history.add_mutually_exclusive_group()
    shown.add_argument("--show", metavar="ID", help="show one conversation: its number, or 'last'")
    shown.add_argument("--search", metavar="TEXT", help="list the messages that contain TEXT")
    shown.add_argument("--export", choices=("json", "markdown"), help="export conversations")
    history.add_argument(
        "--conversation",
        metavar="ID",
        action="append",
        help="with --export: only this conversation (repeatable; default: all)",
    )
    history.add_argument(
        "--limit", type=int, default=20, help="conversations or matches to list (default: 20)"
    )
    history.add_argument(
        "--reasoning", action="store_true", help="with --show: include the model's reasoning"
    )
    history.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    history.set_defaults(handler=_history)

    models = commands.add_parser("models", help="list the models the service offers")
    models.set_defaults(handler=_models)

    wake = commands.add_parser(
        "wake", help="list the wake words, or find the wake word in an audio file"
    )
    wake_what = wake.add_mutually_exclusive_group(required=True)
    wake_what.add_argument(
        "--list", action="store_true", help="the bundled wake words, the configured one starred"
    )
    wake_what.add_argument(
        "--test",
        metavar="FILE",
        help="print where in this audio file the wake word is heard, with its score",
    )
    wake.add_argument("--word", help="with --test: a bundled word or a JSON file ([wake] word)")
    wake.add_argument(
        "--cutoff", type=float, help="with --test: the detection cut-off 0–1 ([wake] cutoff)"
    )
    wake.set_defaults(handler=_wake)

    devices = commands.add_parser(
        "devices", help="list audio devices, marking the ones voiced uses"
    )
    devices.add_argument("--json", action="store_true", help="print one JSON object per device")
    devices.set_defaults(handler=_devices)

    doctor = commands.add_parser(
        "doctor", help="check key, server, models, audio, echo, voice, service"
    )
    doctor.set_defaults(handler=_doctor)

    service = commands.add_parser(
        "service", help="install, remove or check the systemd user service"
    )
    service.add_argument("action", choices=("install", "uninstall", "status"))
    service.add_argument(
        "--no-start",
        action="store_true",
        help="install: write the unit without enabling or starting it",
    )
    service.set_defaults(handler=_service)

    tools = commands.add_parser(
        "tools", help="list every tool (built-in, plug-in, MCP) with its source and state"
    )
    tools.add_argument("--json", action="store_true", help="print one JSON object per tool")
    tools.set_defaults(handler=_tools)

    mcp = commands.add_parser(
        "mcp", help="serve the daemon's voice to other programs (an MCP server on stdio)"
    )
    mcp.add_argument("--socket", type=Path, metavar="PATH", help="control socket path")
    mcp.set_defaults(handler=_mcp)

    config = commands.add_parser("config", help="show the effective settings (key masked)")
    config.set_defaults(handler=_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns:
        The exit status: 0 on success, 1 when a request failed, 2 for a usage or
        configuration problem, 130 when interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    if args.verbose:
        from voiced.logs import setup_logging

        setup_logging(verbose=True)
    try:
        return handler(args)
    except VoicedError as exc:
        print(f"voiced: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, ApiError) else 2
    except KeyboardInterrupt:
        print("voiced: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 1
