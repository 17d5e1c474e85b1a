"""What a search query asks for: words (each must occur) and "exact phrases" in quotes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.text.terms import normalize, query_terms

_PART = re.compile(r'"([^"]*)"?|(\S+)')


def squash(text: str) -> str:
    """Normalized text with runs of whitespace as one space: what words and phrases match in."""
    return " ".join(normalize(text).split())


@dataclass(frozen=True)
class ParsedQuery:
    """Words and phrases, normalized; an article matches when it contains every one.

    A word matches inside longer words (대전 in 대전시는): Korean particles attach to nouns,
    so whole-word matching would miss most forms. A phrase must occur as written, up to
    case, width and spacing.
    """

    words: tuple[str, ...]
    phrases: tuple[str, ...]

    @property
    def needles(self) -> tuple[str, ...]:
        """Everything an article must contain (and what snippets highlight)."""
        return self.words + self.phrases

    def terms(self) -> list[str]:
        """The index terms every matching article has (bigrams of words and phrases)."""
        terms: list[str] = []
        for needle in self.needles:
            for term in query_terms(needle):
                if term not in terms:
                    terms.append(term)
        return terms


def parse_query(text: str) -> ParsedQuery:
    """Split a query into words and "quoted phrases" (an unclosed quote runs to the end).

    Parts without a letter or digit (punctuation alone) are dropped: they match nothing
    the index can find.
    """
    words: list[str] = []
    phrases: list[str] = []
    for match in _PART.finditer(text or ""):
        phrase, word = match.group(1), match.group(2)
        if phrase is not None:
            value = squash(phrase)
            if query_terms(value) and value not in phrases:
                phrases.append(value)
        elif word is not None:
            value = squash(word)
            if query_terms(value) and value not in words:
                words.append(value)
    return ParsedQuery(tuple(words), tuple(phrases))
