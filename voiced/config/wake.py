"""Settings for the local wake word (the ``[wake]`` section)."""

from __future__ import annotations

from dataclasses import dataclass

from voiced.config.checks import Text, above, between, check_fields, setting
from voiced.config.wakemodel import WakeModel, find_model


@dataclass(frozen=True)
class WakeSettings:
    """Settings for the wake word heard on this machine before anything is sent anywhere."""

    word: str = setting("okay_nabu", Text())
    """A bundled model (okay_nabu, hey_jarvis, alexa, hey_mycroft: `voiced wake --list`), or
    the path of a microWakeWord JSON file beside its .tflite."""
    cutoff: float | None = setting(None, between(0.01, 0.99))
    """Detection cut-off, 0–1: lower hears the word more readily and wakes falsely more often
    (`voiced wake --test FILE` shows the scores); unset uses the model's own."""
    wait_s: float = setting(8.0, above(0, 120, "seconds"))
    """After the wake word alone, how long to wait for the question, in seconds."""
    refractory_s: float = setting(2.0, between(0, 30, "seconds"))
    """After a detection, the word is not detected again for this many seconds, so one
    utterance never wakes voiced twice."""

    verify: bool = True
    """For okay_nabu: a detection counts only if a second, differently trained okay_nabu
    model (shipped with voiced) agrees, which refuses most near misses ("okay, go ahead");
    false turns it off. Other words have no second model, and a ``cutoff`` below the model's
    own turns it off too (set to hear a voice the first model scores low)."""

    def __post_init__(self) -> None:
        check_fields(self, "wake")
        find_model(self.word)

    @property
    def model(self) -> WakeModel:
        """The model ``word`` names, checked again (its files may have changed since).

        Raises:
            ConfigError: The model is missing or malformed.
        """
        return find_model(self.word)

    @property
    def effective_cutoff(self) -> float:
        """``cutoff``, or the model's own when unset."""
        return self.cutoff if self.cutoff is not None else self.model.cutoff
