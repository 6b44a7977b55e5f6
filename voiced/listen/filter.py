"""Judges a transcript: Whisper's doubtful segments and invented phrases are not user speech."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from voiced.config import ListenSettings
from voiced.groq.models import Transcription, TranscriptionSegment
from voiced.listen.events import SpeechEnded


@dataclass(frozen=True)
class Accepted:
    """The user said ``text``; ``dropped`` says which doubtful segments were left out, and why."""

    text: str
    dropped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejected:
    """Nothing the user said: ``text`` is what Whisper wrote, ``reason`` why it was rejected."""

    reason: str
    text: str


Verdict = Accepted | Rejected

_NOT_WORD = re.compile(r"[^\w\s']+")


def normalise(text: str) -> tuple[str, ...]:
    """The words of ``text``, lower case, without punctuation."""
    return tuple(_NOT_WORD.sub(" ", text.lower()).replace("'", "").split())


class TranscriptFilter:
    """Rejects the segments and transcripts Whisper produces without speech.

    Args:
        settings: The thresholds and phantom phrases of ``[listen]``.
    """

    def __init__(self, settings: ListenSettings) -> None:
        self._s = settings
        self._phantoms = {normalise(p) for p in settings.phantom_phrases} - {()}

    def judge(self, transcription: Transcription, duration: float, level_db: float) -> Verdict:
        """Judge one utterance's transcript.

        Args:
            transcription: The transcript; with verbose_json segments every segment is judged,
                else only the phantom phrases apply.
            duration: How long the utterance's speech lasts, seconds.
            level_db: RMS level of its speech, dBFS.

        Returns:
            ``Accepted`` with the text of the trusted segments, or ``Rejected`` with the reason.
        """
        text = transcription.text.strip()
        dropped: list[str] = []
        kept: list[TranscriptionSegment] = []
        if transcription.segments:
            for segment in transcription.segments:
                problem = self.segment_problem(segment)
                if problem is None:
                    kept.append(segment)
                else:
                    dropped.append(f"{segment.text.strip()!r}: {problem}")
            if not kept:
                return Rejected("; ".join(dropped), text)
            text = "".join(segment.text for segment in kept).strip()
        if not normalise(text):
            return Rejected("empty transcript", text)
        why = self._phantom(text, duration, level_db, kept)
        if why is not None:
            return Rejected(why, text)
        return Accepted(text, tuple(dropped))

    def judge_utterance(self, transcription: Transcription, utterance: SpeechEnded) -> Verdict:
        """Judge the transcript of a segmented utterance, by its speech's length and level."""
        return self.judge(transcription, utterance.speech_duration, utterance.level_db)

    def segment_problem(self, segment: TranscriptionSegment) -> str | None:
        """Why ``segment`` cannot be trusted, or None when it can."""
        s = self._s
        if segment.no_speech_prob > s.max_no_speech_prob:
            return f"no_speech_prob {segment.no_speech_prob:.2f} > {s.max_no_speech_prob:g}"
        if segment.no_speech_prob > s.no_speech_prob and segment.avg_logprob < s.no_speech_logprob:
            return (
                f"no_speech_prob {segment.no_speech_prob:.2f} > {s.no_speech_prob:g} with "
                f"avg_logprob {segment.avg_logprob:.2f} < {s.no_speech_logprob:g}"
            )
        if segment.avg_logprob < s.min_avg_logprob:
            return f"avg_logprob {segment.avg_logprob:.2f} < {s.min_avg_logprob:g}"
        if segment.compression_ratio > s.max_compression_ratio:
            return (
                f"compression_ratio {segment.compression_ratio:.2f} > "
                f"{s.max_compression_ratio:g} (repetition)"
            )
        return None

    def _phantom(
        self,
        text: str,
        duration: float,
        level_db: float,
        segments: Sequence[TranscriptionSegment],
    ) -> str | None:
        """Why ``text`` is a phrase Whisper invented, or None when it may be what was said.

        A quiet utterance of phantom phrases is always rejected. A short one is rejected when
        Whisper gave no metadata, or its metadata or the speech's length doubts it: people do
        say "Thank you.", and Whisper is sure of it when they do.
        """
        s = self._s
        if level_db < s.phantom_quiet_db:
            where = f"a quiet utterance ({level_db:.0f} dBFS < {s.phantom_quiet_db:g} dBFS)"
            doubt = ""
        elif duration < s.phantom_max_s:
            where = f"a short utterance ({duration:.1f} s < {s.phantom_max_s:g} s)"
            found = self._doubt(duration, segments) if segments else ""
            if found is None:
                return None
            doubt = found
        else:
            return None
        if not self._only_phantoms(normalise(text)):
            return None
        return f"{text!r} is a phrase Whisper invents over noise, in {where}{doubt}"

    def _doubt(self, duration: float, segments: Sequence[TranscriptionSegment]) -> str | None:
        """What doubts a short phantom phrase (", and …"), or None when nothing does."""
        s = self._s
        if duration < s.phantom_min_s:
            return f", and its speech lasts {duration:.2f} s < {s.phantom_min_s:g} s"
        for segment in segments:
            if segment.no_speech_prob > s.phantom_no_speech_prob:
                return (
                    f", and no_speech_prob {segment.no_speech_prob:.2f} > "
                    f"{s.phantom_no_speech_prob:g}"
                )
            if segment.avg_logprob < s.phantom_min_logprob:
                return f", and avg_logprob {segment.avg_logprob:.2f} < {s.phantom_min_logprob:g}"
        return None

    def _only_phantoms(self, words: tuple[str, ...]) -> bool:
        """Whether ``words`` is one or more phantom phrases one after another."""
        reachable = [True] + [False] * len(words)
        for i in range(len(words)):
            if reachable[i]:
                for phrase in self._phantoms:
                    if words[i : i + len(phrase)] == phrase:
                        reachable[i + len(phrase)] = True
        return bool(words) and reachable[-1]
