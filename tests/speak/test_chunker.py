"""The chunker: the first clause goes out early, then whole sentences, however the text streams."""

from __future__ import annotations

import random

import pytest

from voiced.speak.chunker import Chunker
from voiced.speak.cleaner import SpeechCleaner, clean_for_speech


def chunks_of(text: str, pieces: list[str] | None = None, **options: int) -> list[str]:
    chunker = Chunker(**options)
    out: list[str] = []
    for piece in pieces if pieces is not None else [text]:
        out += chunker.feed(piece)
    return out + chunker.flush()


CASES = [
    (
        "Lima is the capital of Peru, and it sits on the coast. It is big.",
        ["Lima is the capital of Peru,", "and it sits on the coast.", "It is big."],
    ),
    # too few words before the comma: the first chunk runs to the sentence end
    ("Well, I think so. Yes, really.", ["Well, I think so.", "Yes, really."]),
    # later chunks end only at sentences, not clauses
    (
        "Yes. First, second, third; fourth: fifth.",
        ["Yes.", "First, second, third; fourth: fifth."],
    ),
    ("Here is the plan: go now. Then rest.", ["Here is the plan:", "go now.", "Then rest."]),
    ("It costs a lot — about $1,000 — sadly.", ["It costs a lot", "about $1,000 — sadly."]),
    ("The plan is simple - just go. Done.", ["The plan is simple", "just go.", "Done."]),
    ("A well-known trick works. Done.", ["A well-known trick works.", "Done."]),
    # periods that do not end sentences
    (
        "Dr. Smith met Mr. Jones at 3.5 km. Then e.g. lunch. He left.",
        ["Dr. Smith met Mr. Jones at 3.5 km.", "Then e.g. lunch.", "He left."],
    ),
    (
        "J. K. Rowling lives in the U.S. She writes.",
        ["J. K. Rowling lives in the U.S. She writes."],
    ),
    ("It is approx. five. Wait... no. Fine.", ["It is approx. five.", "Wait... no.", "Fine."]),
    ("Version 2.0.1 is out! Get it? Yes.", ["Version 2.0.1 is out!", "Get it?", "Yes."]),
    (
        "See No. 5 and Fig. 2 from Jan. 3. No. Apple Inc. Then",
        ["See No. 5 and Fig. 2 from Jan. 3.", "No.", "Apple Inc.", "Then"],
    ),
    ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
    ("See (the note.) Next one.", ["See (the note.)", "Next one."]),
    # line breaks always end a chunk; nothing speakable is dropped
    ("Title.\nFirst item.\nSecond item.\n", ["Title.", "First item.", "Second item."]),
    ("Code omitted.\n...\n", ["Code omitted."]),
    ("No boundary at all", ["No boundary at all"]),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_chunks_whole_text(text: str, expected: list[str]) -> None:
    assert chunks_of(text) == expected


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_streamed_in_random_pieces_gives_the_same_chunks(text: str, expected: list[str]) -> None:
    rng = random.Random(text)
    for largest in (1, 2, 4, 9):
        for _ in range(25):
            pieces, at = [], 0
            while at < len(text):
                size = rng.randint(1, largest)
                pieces.append(text[at : at + size])
                at += size
            assert chunks_of(text, pieces) == expected


def test_the_first_chunk_is_released_at_the_first_clause_without_waiting_for_more() -> None:
    chunker = Chunker()
    assert chunker.feed("Lima is the capital of Peru,") == []  # the next character decides
    assert chunker.feed(" and") == ["Lima is the capital of Peru,"]
    assert chunker.feed(" it sits on the coast, by the sea.") == []
    assert chunker.feed(" Next") == ["and it sits on the coast, by the sea."]


def test_a_sentence_end_waits_only_for_the_first_letter_of_the_next_word() -> None:
    chunker = Chunker()
    assert chunker.feed("Dr.") == []
    assert chunker.feed(" S") == []  # an abbreviation, not an end
    assert chunker.feed("mith is here. ") == []
    assert chunker.feed("w") == []  # a lower-case word follows: not an end
    assert chunker.feed("ho? He") == ["Dr. Smith is here. who?"]


def test_first_min_words_sets_how_early_the_first_clause_may_end() -> None:
    assert chunks_of("Well, yes, fine.", first_min_words=1) == ["Well,", "yes, fine."]
    assert chunks_of("Well, yes, fine.", first_min_words=2) == ["Well, yes,", "fine."]


def test_a_chunk_without_boundaries_is_cut_at_a_space_before_max_chars() -> None:
    text = " ".join(["word"] * 100)
    chunks = chunks_of(text, max_chars=60)
    assert all(len(c) <= 60 for c in chunks)
    assert " ".join(chunks) == text


def test_cleaner_and_chunker_together_speak_a_markdown_reply_early() -> None:
    reply = "**Lima** is the capital of *Peru*, on the coast. It has ~10 million people 🎉."
    cleaner, chunker = SpeechCleaner(), Chunker()
    released: list[tuple[int, str]] = []
    for at in range(len(reply)):
        for chunk in chunker.feed(cleaner.feed(reply[at])):
            released.append((at, chunk))
    for chunk in chunker.feed(cleaner.flush()) + chunker.flush():
        released.append((len(reply), chunk))
    assert [c for _, c in released] == [
        "Lima is the capital of Peru,",
        "on the coast.",
        "It has about 10 million people.",
    ]
    assert released[0][0] == reply.index(" on") + 1  # out with the next word's first letter
    assert " ".join(c for _, c in released) == " ".join(chunks_of(clean_for_speech(reply)))


def test_chunks_of_random_cleaned_soup_do_not_depend_on_the_pieces() -> None:
    rng = random.Random(7)
    alphabet = ["word", " ", ".", ",", ";", ":", "!", "?", "…", " — ", "-", "Dr.", "e.g.", "3.5"]
    alphabet += ["\n", "A", "x", '"', ")", "No.", " 5", "U.S."]
    for _ in range(600):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        pieces, at = [], 0
        while at < len(text):
            size = rng.randint(1, 4)
            pieces.append(text[at : at + size])
            at += size
        assert chunks_of(text, pieces) == chunks_of(text), repr(text)
