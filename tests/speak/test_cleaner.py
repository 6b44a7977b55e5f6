"""The speech cleaner: markdown and the rest become speakable text, the same however it streams."""

from __future__ import annotations

import random

import pytest

from voiced.speak.cleaner import SpeechCleaner, clean_for_speech
from voiced.speak.inline import describe_url

CASES = [
    # emphasis, inline code, headers
    ("Some **bold**, __strong__ and *italic* text.", "Some bold, strong and italic text."),
    ("Use `ls -la` here.", "Use ls -la here."),
    ("~~old~~ new", "old new"),
    ("# Title\nBody text.", "Title.\nBody text."),
    ("### Step 2: Install\nRun it.", "Step 2: Install.\nRun it."),
    ("#hashtag stays", "#hashtag stays"),
    # lists, quotes, rules
    ("- milk\n- eggs\n* bread\n+ jam", "milk.\neggs.\nbread.\njam"),
    ("1. first\n2) second\n10. tenth", "first.\nsecond.\ntenth"),
    ("  - nested item\n    - deeper", "nested item.\ndeeper"),
    ("- [ ] todo\n- [x] done", "todo.\ndone"),
    ("> quoted\n> > nested quote", "quoted.\nnested quote"),
    ("Above\n---\n***\nBelow", "Above.\nBelow"),
    ("2024 was a year.", "2024 was a year."),
    ("3.5 is a number.", "3.5 is a number."),
    ("-5 degrees outside.", "-5 degrees outside."),
    # code blocks
    ("Run this:\n```python\nprint('hi')\n```\nDone.", "Run this:\nCode omitted.\nDone."),
    ("~~~\ncode ~~~ inside\n~~~\nAfter.", "Code omitted.\nAfter."),
    ("````\n```\nstill code\n````\nOut.", "Code omitted.\nOut."),
    ("```\nnever closed\nmore code", "Code omitted.\n"),
    # tables
    ("| Name | Age |\n|---|:--:|\n| Alice | 30 |\n", "Name, Age.\nAlice, 30.\n"),
    ("|a|b|c|\n|-|-|-|\n|1|2|3|", "a, b, c.\n1, 2, 3"),
    # links, images, URLs
    ("See [the docs](https://docs.python.org/3/) now.", "See the docs now."),
    ('Read [this](<https://x.org/a b> "title").', "Read this."),
    ("A [](https://example.com/empty) link.", "A a link to example.com link."),
    ("Logo: ![the logo](logo.png).", "Logo: the logo."),
    ("Visit https://www.example.com/path?q=1.", "Visit example.com."),
    ("Details: https://example.com/a_(b) and more.", "Details: a link to example.com and more."),
    ("Docs at <https://docs.rs/tokio>.", "Docs at docs.rs."),
    ("Try www.wikipedia.org, it helps.", "Try a link to wikipedia.org, it helps."),
    ("The http header and www-data user.", "The http header and www-data user."),
    ("Cite [1] and [2].", "Cite [1] and [2]."),
    # reasoning, html
    ("<think>\nLet me think.\n</think>\n\nThe answer is 4.", "The answer is 4."),
    ("Sure<think>hidden</think> thing.", "Sure thing."),
    ("Line<br>break and <b>bold</b>.", "Line break and bold."),
    ("If a < b and c > d then.", "If a < b and c > d then."),
    # emoji, actions
    ("Great job! 🎉👍🏽 Keep going 👨‍👩‍👧.", "Great job! Keep going."),
    ("Flags 🇫🇷 and ✨ sparkle ☀️ sun.", "Flags and sparkle sun."),
    ("*sighs* Fine, I'll do it.", "Fine, I'll do it."),
    ("Okay. *grins* You got it. *waves*", "Okay. You got it."),
    ("*Really* important.", "Really important."),
    ("This is *very* good.", "This is very good."),
    # symbols read well
    ("5 * 3 = 15 and ~5 minutes.", "5 times 3 = 15 and about 5 minutes."),
    ("snake_case and __init__ and _italic_.", "snake_case and init and italic."),
    (r"An escaped \*star\* here.", "An escaped *star* here."),
    # spacing
    ("Too    many   spaces\there.", "Too many spaces here."),
    ("Lines\r\nwith CRLF\n\n\n\nend", "Lines.\nwith CRLF.\nend"),
]

REPLY = """<think>The user wants a recipe. Keep it short.</think>

## Pancakes 🥞

Here's a *quick* recipe (see https://www.example.com/recipes/pancakes?id=7):

1. Mix **200 g** flour, 2 eggs and 300 ml milk.
2. Rest the batter for ~10 minutes.
3. Fry in a hot pan; flip once bubbles appear.

| Ingredient | Amount |
|------------|-------:|
| Flour      | 200 g  |
| Eggs       | 2      |

```bash
echo "not spoken"
```

> Tip: Dr. Smith says e.g. 3.5 mm thick is best. *smiles* Enjoy! 😋
"""


@pytest.mark.parametrize(("text", "spoken"), CASES)
def test_cleans_whole_text(text: str, spoken: str) -> None:
    assert clean_for_speech(text) == spoken


def feed_in_pieces(text: str, rng: random.Random, largest: int) -> str:
    cleaner = SpeechCleaner()
    out, at = [], 0
    while at < len(text):
        size = rng.randint(1, largest)
        out.append(cleaner.feed(text[at : at + size]))
        at += size
    return "".join(out) + cleaner.flush()


@pytest.mark.parametrize(("text", "spoken"), [*CASES, (REPLY, None)])
def test_streamed_in_random_pieces_equals_whole(text: str, spoken: str | None) -> None:
    whole = clean_for_speech(text)
    rng = random.Random(text)
    for largest in (1, 2, 3, 7, 16):
        for _ in range(20):
            assert feed_in_pieces(text, rng, largest) == whole


def test_a_realistic_reply_is_cleaned_for_speech() -> None:
    assert clean_for_speech(REPLY) == (
        "Pancakes.\n"
        "Here's a quick recipe (see example.com):\n"
        "Mix 200 g flour, 2 eggs and 300 ml milk.\n"
        "Rest the batter for about 10 minutes.\n"
        "Fry in a hot pan; flip once bubbles appear.\n"
        "Ingredient, Amount.\n"
        "Flour, 200 g.\n"
        "Eggs, 2.\n"
        "Code omitted.\n"
        "Tip: Dr. Smith says e.g. 3.5 mm thick is best. Enjoy!\n"
    )


def test_text_is_released_as_soon_as_it_is_settled() -> None:
    cleaner = SpeechCleaner()
    assert cleaner.feed("Lima is the capital") == "Lima is the capital"
    assert cleaner.feed(" of **Pe") == " of Pe"
    assert cleaner.feed("ru**, ") == "ru,"  # a trailing space waits for the next word
    assert cleaner.feed("and *it") == " and"  # an opening star waits for its closing one
    assert cleaner.feed("* is.") == " it is."


def test_a_url_is_held_until_it_ends() -> None:
    cleaner = SpeechCleaner()
    assert cleaner.feed("See https://exa") == "See"
    assert cleaner.feed("mple.com/x ok") == " example.com ok"


def test_reasoning_is_never_released_even_when_unclosed() -> None:
    cleaner = SpeechCleaner()
    spoken = cleaner.feed("<think>secret plans") + cleaner.feed(" more") + cleaner.flush()
    assert spoken == ""


def test_code_blocks_can_be_dropped_silently() -> None:
    assert clean_for_speech("A:\n```\nx = 1\n```\nB.", code_placeholder="") == "A:\nB."


def test_describe_url_names_the_domain() -> None:
    assert describe_url("https://www.example.com:8080/a?b#c") == "a link to example.com"
    assert describe_url("www.python.org", bare=True) == "python.org"
    assert describe_url("https://") == "a link"
    assert describe_url("http://[oops/path") == "a link"  # malformed, not a crash


SOUP = [
    *("*", "**", "_", "__", "`", "```", "~", "~~", "[", "]", "(", ")", "!", "<", ">"),
    *("<think>", "</think>", "<br>", "<b>", "http://", "https://x.io/a", "www.", "h", "w"),
    *("\n", "\n\n", " ", "  ", "\t", "\r\n", "#", "# ", "- ", "1. ", "| ", "|", "---", "> "),
    *("\\", "word", "Dr.", "e.g.", "3.5", ".", ",", ";", ":", " — ", "?", "…", '"', "'"),
    *("🎉", "👍🏽", "Hello", "there", "A", "x"),
]


def test_random_markdown_soup_streams_the_same_as_whole() -> None:
    # The property behind everything above, on text no model would write but a stream may.
    rng = random.Random(2024)
    for _ in range(600):
        text = "".join(rng.choice(SOUP) for _ in range(rng.randint(1, 40)))
        assert feed_in_pieces(text, rng, 5) == clean_for_speech(text), repr(text)
