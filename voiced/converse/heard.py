"""What of a turn's replies was heard, when speech was cut short."""

from __future__ import annotations

from collections.abc import Sequence

from voiced.speak.cleaner import clean_for_speech


def heard_shares(replies: Sequence[str], heard: str) -> list[str | None]:
    """What was heard of each reply of a turn, from what was heard of them all, in order.

    The rounds of a turn are spoken as one reply, so the words heard are laid over each
    round's spoken words in turn (counted as the speech cleaner says them).

    Args:
        replies: The stored text of each round's reply, oldest first.
        heard: What was heard of the whole turn (cleaned text, as the speaker reports it).

    Returns:
        For each reply: None when it was heard in full (or had nothing to say), else the
        words heard of it ("" for a reply cut off before any of it was heard).
    """
    words = heard.split()
    shares: list[str | None] = []
    for text in replies:
        count = len(clean_for_speech(text).split())
        if count and len(words) < count:
            shares.append(" ".join(words))
            words = []
        else:
            shares.append(None)
            words = words[count:]
    return shares
