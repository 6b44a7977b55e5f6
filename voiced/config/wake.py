"""Settings for the local wake word (the ``[wake]`` section)."""

from __future__ import annotations

from dataclasses import dataclass

from voiced.errors import ConfigError
from voiced.wake.models import WakeModel, find_model


@dataclass(frozen=True)
class WakeSettings:
    """Settings for the wake word heard on this machine before anything is sent anywhere."""

    word: str = "okay_nabu"
    """A bundled model (okay_nabu, hey_jarvis, alexa, hey_mycroft: `voiced wake --list`), or
    the path of a microWakeWord JSON file beside its .tflite."""
    cutoff: float | None = None
    """Detection cut-off, 0–1: lower hears the word more readily and wakes falsely more often
    (`voiced wake --test FILE` shows the scores); unset uses the model's own."""
    wait_s: float = 8.0
    """After the wake word alone, how long to wait for the question, in seconds."""
    refractory_s: float = 2.0
    """After a detection, the word is not detected again for this many seconds, so one
    utterance never wakes voiced twice."""

    def __post_init__(self) -> None:
        if self.cutoff is not None and not 0 < self.cutoff < 1:
            raise ConfigError("[wake] cutoff must be between 0 and 1 (both excluded)")
        if not 0 < self.wait_s <= 120:
            raise ConfigError("[wake] wait_s must be above 0 and at most 120 seconds")
        if not 0 <= self.refractory_s <= 30:
            raise ConfigError("[wake] refractory_s must be between 0 and 30 seconds")
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
