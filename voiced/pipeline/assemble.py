"""Building the turn pipeline from the settings: microphone or file in, speaker or file out."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from voiced.config import Settings
from voiced.converse.conversation import RAW_WITH_TOOLS, Conversation, ConversationOptions
from voiced.converse.session import open_conversation
from voiced.errors import VoicedError
from voiced.groq.client import options_from_settings
from voiced.listen.filter import TranscriptFilter
from voiced.listen.segmenter import Segmenter
from voiced.pipeline.addressing import Addressing
from voiced.pipeline.aec import EchoState
from voiced.pipeline.agentvoice import AgentVoice, AskingBroker
from voiced.pipeline.approval import ReportingRunner
from voiced.pipeline.clock import InputClock
from voiced.pipeline.core import Pipeline, PipelineParts
from voiced.pipeline.costs import Meter
from voiced.pipeline.ends import echo_choice, espeak_of, open_player, sources, tts_for
from voiced.pipeline.hearing import Hearing
from voiced.pipeline.judge import EchoGuard, WakePhrase
from voiced.pipeline.mcplink import daemon_mcp
from voiced.pipeline.metered import PipelineClient
from voiced.pipeline.replay import ClockedOutput, EventsFile, RoomSource
from voiced.pipeline.seed import stored_turns
from voiced.pipeline.speculation import ConversationPrefetcher
from voiced.pipeline.speech import CachingTTS
from voiced.pipeline.stages import GroqTranscriber
from voiced.pipeline.states import PipelineState
from voiced.pipeline.turns import TurnHooks, TurnRunner, spoken_apology
from voiced.protocol.reports import ErrorReport, LogRecord
from voiced.speak.speaker import Speaker
from voiced.wake.detector import WakeDetector
from voiced.wake.unsaid import unsay_wake_word

if TYPE_CHECKING:
    from voiced.audio.echo import EchoCanceller
    from voiced.audio.farend import FarEnd
    from voiced.audio.frames import FrameSource
    from voiced.audio.room import RoomOptions
    from voiced.mcp.manager import McpManager
    from voiced.pipeline.host import EngineHost as Daemon

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayFiles:
    """Replay mode: the file that is the microphone, and where output and events go."""

    input: Path
    output: Path | None = None
    events: Path | None = None
    skip_idle: bool = False
    """Feed the input without waiting while the pipeline is idle (``--skip-idle``)."""
    room: RoomOptions | None = None
    """The simulated room that echoes voiced's output into the input (``--echo-gain``)."""


def engine_factory(
    settings: Settings, replay: ReplayFiles | None
) -> Callable[[Daemon], AssembledEngine]:
    """Return what builds the real pipeline for a daemon with these settings.

    Raises:
        ConfigError: The wake word's model fails verification: the daemon does not start
            half-working (without its wake word).
    """
    WakeDetector.from_settings(settings.wake)
    return lambda daemon: AssembledEngine(daemon, replay)


class AssembledEngine:
    """The real pipeline, set up inside :meth:`run` (it needs the event loop) and torn down
    after it. Commands that arrive before it is up are kept and applied once it is.

    Args:
        daemon: The daemon it serves.
        replay: Replay mode's files, or None for the microphone and speaker.
    """

    def __init__(self, daemon: Daemon, replay: ReplayFiles | None) -> None:
        self.daemon, self.replay = daemon, replay
        self.clock = InputClock()
        self.pipeline: Pipeline | None = None
        self.skip_idle = replay is not None and replay.skip_idle
        """Replay mode: while the pipeline is idle and nothing plays, the input is not
        waited for (it can be switched on while running)."""
        self._output: ClockedOutput | None = None
        self._mcp: McpManager | None = None
        self.echo: EchoState | None = None
        """How voiced keeps from hearing itself (set once built)."""
        self.ready = asyncio.Event()
        """Set once the pipeline is built and listening."""
        self._gate = (True, True)
        self._events = EventsFile(replay.events, self.clock) if replay and replay.events else None
        if self._events is not None:
            daemon.bus.listen(self._events)

    async def run(self) -> None:
        """Set everything up, run the pipeline, write replay mode's files at the end."""
        output = self._output = ClockedOutput(self.clock) if self.replay else None
        try:
            async with AsyncExitStack() as stack:
                self.pipeline = await self._build(stack, output)
                self.pipeline.set_gate(*self._gate)
                self.ready.set()
                await self.pipeline.run()
        finally:
            if output is not None and self.replay is not None and self.replay.output is not None:
                output.save(self.replay.output, until=self.clock.now())
            if self._events is not None:
                self._events.close()

    async def _build(self, stack: AsyncExitStack, output: ClockedOutput | None) -> Pipeline:
        d, settings = self.daemon, self.daemon.settings
        meter = Meter(d.publish, lambda: self.pipeline.upcoming_turn if self.pipeline else 1)
        client = PipelineClient(options_from_settings(settings), meter)
        stack.push_async_callback(client.aclose)
        tts = CachingTTS(tts_for(settings, client, d))
        tts.unsay = lambda text: unsay_wake_word(text, d.controls.wake_word)
        canceller, far_end = await self._echo(settings, output)
        speaker = Speaker(
            tts,
            output or await open_player(stack, settings, d, far_end),
            earcons=settings.speech.earcons,
        )
        try:
            await espeak_of(tts).warm_up()
        except VoicedError as exc:
            d.publish(ErrorReport(code="tts", message=exc.message, hint=exc.hint))
        turn = lambda: self.pipeline.turn_count if self.pipeline else 0  # noqa: E731
        broker = AskingBroker(
            d.publish,
            turn,
            clock=self.clock.now,
            voice=settings.tools.voice_confirm,
            window_s=settings.tools.voice_confirm_window_s,
        )
        # Replay mode measures every time on the input's clock, so that the outputs do not
        # depend on how fast the input was fed (see ``idle``).
        monotonic = self.clock.seconds if self.replay else time.monotonic
        echo = EchoGuard(monotonic)
        addressing = Addressing(self.clock.now, settings.wake.wait_s, settings.daemon.wake_window_s)

        async def announce(text: str) -> None:
            d.publish(LogRecord(level="info", message=f"announcement: {text}"))
            echo.said(text)
            await speaker.say(text)

        def ask_aloud(question: str) -> None:
            echo.said(question)
            asyncio.get_running_loop().create_task(speaker.say(question))

        async def put_question(question: str, how_to_answer: str) -> None:
            # The echo guard notes the question, not how to answer it: the user is to say
            # those words back. So both are said past the caching TTS, whose hook notes every
            # chunk rendered during a turn; they play on the same output, which stop() stops.
            echo.said(question)
            asker = Speaker(tts.inner, speaker.output, earcons=False)
            await asker.say(tts.unsay(f"{question} {how_to_answer}"))
            addressing.replied()  # in wake mode, the answer needs no wake word

        broker.say = put_question
        mcp = await stack.enter_async_context(daemon_mcp(d, settings, after=self.ready))
        self._mcp = mcp.manager
        conversation = await stack.enter_async_context(
            open_conversation(
                client,
                settings,
                confirm=broker,
                announce=announce,
                on_lost=d.storage_lost,
                tool_sources=(mcp.manager,),
            )
        )
        with contextlib.suppress(VoicedError):
            d.recent.seed(await stored_turns(conversation.history, settings.daemon.replay_turns))
        conversation.runner = ReportingRunner(
            conversation.runner.registry, broker, settings.tools.timeout, d.publish, turn
        )
        _say_if_raw_is_parsed(conversation, d)
        mcp.watch(conversation.runner.registry)
        wake = WakePhrase(settings.daemon.wake_phrase, settings.daemon.wake_window_s, monotonic)
        transcriber = GroqTranscriber(client, settings.stt, meter)
        hearing = Hearing(
            transcriber,
            TranscriptFilter(settings.listen),
            echo,
            wake,
            broker,
            self.clock,
            d.publish,
        )
        hearing.apologise = lambda exc: ask_aloud(spoken_apology(exc))
        assert self.echo is not None
        hearing.echo_cancelled = self.echo.choice.external
        echo_state = self.echo

        def replied() -> None:
            hearing.wake.wake()
            addressing.replied()

        hooks = TurnHooks(
            publish=d.publish,
            states=PipelineState(d),
            said=echo.said,
            finished=replied,
            reply_began=echo_state.reply_began,
            reply_ended=echo_state.reply_ended,
        )
        turns = TurnRunner(conversation, speaker, tts, hooks, monotonic)

        def set_chat_model(model: str) -> None:
            conversation.options = dataclasses.replace(conversation.options, model=model)

        def reconfigure(new: Settings) -> None:
            conversation.options = ConversationOptions.from_settings(new, d.models["chat"])
            _say_if_raw_is_parsed(conversation, d)
            client.options = options_from_settings(new)
            transcriber.settings, transcriber.model = new.stt, new.stt.model
            tts.inner = tts_for(new, client, d)
            broker.voice = new.tools.voice_confirm
            broker.window_s = new.tools.voice_confirm_window_s
            mcp.reload(new)

        async def say_for_a_program(text: str) -> None:
            await speaker.say(text)
            addressing.replied()  # in wake mode, an answer to it needs no wake word

        d.voice = AgentVoice(d, broker, announce, say_for_a_program, self.clock.now)
        return Pipeline(
            PipelineParts(
                source=sources(
                    settings,
                    self.replay.input if self.replay else None,
                    d,
                    self.idle,
                    echo=canceller,
                    wrap=self._room(output, canceller),
                ),
                segmenter=lambda: Segmenter(settings.daemon_listen, turn_in_background=True),
                hearing=hearing,
                turns=turns,
                prefetcher=ConversationPrefetcher(conversation, client, tts),
                set_chat_model=set_chat_model,
                reconfigure=reconfigure,
                addressing=addressing,
                wake=WakeDetector.from_settings,
                earcon=speaker.earcon,
                replay=self.replay is not None,
                echo_cancelled=hearing.echo_cancelled,
                echo=echo_state,
                monotonic=monotonic,
            ),
            d,
        )

    async def _echo(
        self, settings: Settings, output: ClockedOutput | None
    ) -> tuple[EchoCanceller | None, FarEnd | None]:
        """Decide how voiced keeps from hearing itself (``self.echo``); with the in-process
        canceller on, return it and (for the speaker) the far end the player feeds."""
        from voiced.audio.echo import EchoCanceller
        from voiced.audio.farend import FarEnd

        room = self.replay.room if self.replay else None
        choice = await echo_choice(settings, self.replay is not None, room is not None)
        log.info("echo: %s", choice.describe())
        canceller: EchoCanceller | None = None
        far_end: FarEnd | None = None
        if choice.aec:
            far_end = FarEnd() if output is None else None
            reference = output if output is not None else far_end
            assert reference is not None
            canceller = EchoCanceller(reference)
        meter = canceller.meter if canceller is not None else None
        near_end = canceller.near_end if canceller is not None else None
        self.echo = EchoState(
            choice, meter, settings.audio.echo_min_erle_db, self.daemon.publish, near_end
        )
        return canceller, far_end

    def _room(
        self, output: ClockedOutput | None, canceller: EchoCanceller | None
    ) -> Callable[[FrameSource], FrameSource] | None:
        """Replay mode: what wraps the file in its simulated room and the canceller."""
        from voiced.audio.room import SimulatedRoom

        room = self.replay.room if self.replay else None
        if output is None or (room is None and canceller is None):
            return None
        simulated = SimulatedRoom(room, output.segment) if room is not None else None
        return lambda source: RoomSource(source, simulated, canceller)

    def idle(self) -> bool:
        """Whether the replayed input may run ahead of real time now: ``skip_idle`` is on,
        the pipeline is settled, the output has nothing playing or still to play, and every
        MCP server has come up (or failed) once.

        Nothing the pipeline does then depends on wall time (its time windows run on the input
        clock), so the outputs are those of a replay in real time; only what comes from
        outside the input (a client's command, a timer, an MCP server started again after a
        failure) may land at another input time.
        """
        output, mcp = self._output, self._mcp
        return (
            self.skip_idle
            and self.pipeline is not None
            and self.pipeline.settled()
            and (output is None or output.idle)
            and (mcp is None or not mcp.starting)
        )

    # -- Engine: commands, held until the pipeline is up ------------------------------------

    def set_gate(self, open_: bool, flush: bool = True) -> None:
        """Open or close the microphone."""
        self._gate = (open_, flush)
        if self.pipeline is not None:
            self.pipeline.set_gate(open_, flush)

    async def cancel(self) -> bool:
        """Stop speaking and drop the turn in progress."""
        return await self.pipeline.cancel() if self.pipeline is not None else False

    async def submit_text(self, text: str) -> None:
        """Answer a typed message (waits until the pipeline is up).

        Raises:
            VoicedError: The pipeline did not come up within 30 s.
        """
        try:
            async with asyncio.timeout(30):
                await self.ready.wait()
        except TimeoutError:
            raise VoicedError("the assistant is still starting", "try again in a moment") from None
        assert self.pipeline is not None
        await self.pipeline.submit_text(text)

    def awake(self) -> bool:
        """Whether a follow-up needs no wake phrase right now."""
        return self.pipeline.awake() if self.pipeline is not None else True

    def answer(self, call_id: str, approve: bool) -> bool:
        """Resolve a tool confirmation."""
        return self.pipeline.answer(call_id, approve) if self.pipeline is not None else False

    def set_model(self, kind: Literal["chat", "stt"], model: str) -> None:
        """Use another model."""
        if self.pipeline is not None:
            self.pipeline.set_model(kind, model)

    def apply_settings(self, settings: Settings) -> None:
        """Take reloaded settings."""
        if self.pipeline is not None:
            self.pipeline.apply_settings(settings)


def _say_if_raw_is_parsed(conversation: Conversation, daemon: Daemon) -> None:
    """Warn (log and clients) that raw reasoning is asked for as parsed, tools being on."""
    configured, asked = conversation.options.reasoning_format, conversation.reasoning_format
    if configured == "raw" and asked != "raw":
        log.warning("%s", RAW_WITH_TOOLS)
        daemon.publish(LogRecord(level="warning", message=RAW_WITH_TOOLS))
