"""The text a story is recognised by: the body without what differs between reprints.

Regional papers reprint wire copy and press releases with their own lead-in, byline,
reporter trailer, e-mail and copyright line, and with spacing and punctuation of their own.
None of that says which story it is, so it is removed before shingling; what is left is
Hangul, Latin letters and digits, run together (whitespace does not separate Korean words
reliably anyway: particles attach to nouns).
"""

from __future__ import annotations

import re

from crawler.text.bylines import is_byline_line, strip_wire_lead
from crawler.text.clean import is_copyright_line

SHINGLE = 5  # characters; Korean syllables carry a lot, so 5 is already phrase-like
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w.-]+)?")
_NOT_WORD = re.compile(r"[^0-9A-Za-z\uac00-\ud7a3]+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
_KOREAN_THOUSANDS = re.compile(r"(\d+)천(\d{3})")  # 1천300만 -> 1300만


def story_text(body: str) -> str:
    """Body reduced to what identifies the story (see module docstring)."""
    return squash(story_clean(body))


def squash(clean: str) -> str:
    """Only letters and digits, lowercased: the text that is shingled."""
    return _NOT_WORD.sub("", clean).lower()


def story_clean(body: str) -> str:
    """The body without lead, credits, e-mails and copyright lines, figures normalized."""
    paragraphs = [p.strip() for p in (body or "").split("\n") if p.strip()]
    if paragraphs:
        paragraphs[0], _ = strip_wire_lead(paragraphs[0])
    # credits and copyright lines sit at the ends; the strict byline parser is the costly
    # part of this function, so only the edges are checked
    edge = set(range(min(2, len(paragraphs)))) | set(range(max(0, len(paragraphs) - 4), len(paragraphs)))
    paragraphs = [p for i, p in enumerate(paragraphs)
                  if i not in edge or not (is_byline_line(p) or is_copyright_line(p))]
    text = " ".join(paragraphs)
    if "@" in text:
        text = _EMAIL.sub(" ", text)
    text = _THOUSANDS.sub("", text)
    return _KOREAN_THOUSANDS.sub(r"\1\2", text)


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    """Distinct character `size`-grams as UTF-8 bytes (what MinHash hashes)."""
    if len(text) < size:
        return {text.encode("utf-8")} if text else set()
    grams = {text[i : i + size] for i in range(len(text) - size + 1)}  # dedupe before encoding
    return {gram.encode("utf-8") for gram in grams}
