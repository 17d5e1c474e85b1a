"""What a search query asks for: words (each must occur), "exact phrases" in quotes, and
-words that must not occur."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from crawler.text.korean import alternatives, find_word, has_word, stem
from crawler.text.terms import normalize, query_terms

_PART = re.compile(r'"([^"]*)"?|(\S+)')


def squash(text: str) -> str:
    """Normalized text with runs of whitespace as one space: what words and phrases match in."""
    return " ".join(normalize(text).split())


@dataclass(frozen=True)
class ParsedQuery:
    """Words, phrases and excluded words, normalized.

    A word matches by its stem at the start of an eojeol, followed only by particles,
    endings or administrative suffixes (crawler.text.korean): 대전시가 finds 대전, 대전시는,
    대전광역시; 대전 does not match 휴대전화 or 대전차. A phrase must occur as written, up to
    case, width and spacing. An article matches when it has every word and phrase and none
    of the excluded words.
    """

    words: tuple[str, ...]
    phrases: tuple[str, ...]
    excluded: tuple[str, ...] = ()

    @cached_property
    def stems(self) -> tuple[str, ...]:
        """The stem of each word, in order (crawler.text.korean.stem)."""
        return tuple(stem(w) for w in self.words)

    @cached_property
    def alternatives(self) -> tuple[tuple[str, ...], ...]:
        """Per word, the stems it is matched by: its own, then a province's other names
        (crawler.text.korean.alternatives)."""
        return tuple(alternatives(s) for s in self.stems)

    @property
    def needles(self) -> tuple[str, ...]:
        """The words and phrases as typed (what the query shows)."""
        return self.words + self.phrases

    def terms(self) -> list[str]:
        """The index terms of the stems and phrases (bigrams), without repeats."""
        terms: list[str] = []
        for needle in self.stems + self.phrases:
            for term in query_terms(needle):
                if term not in terms:
                    terms.append(term)
        return terms

    def word_matched(self, text: str) -> list[bool]:
        """For each word: does squashed `text` hold it? Adjacent Hangul words also match
        written together (스마트 시티 finds 스마트시티)."""
        stems = self.stems
        found = [any(has_word(text, a) for a in alts) for alts in self.alternatives]
        for i in range(len(stems) - 1):
            if not (found[i] and found[i + 1]) and has_word(text, self.words[i] + stems[i + 1]):
                found[i] = found[i + 1] = True
        return found

    def matches(self, text: str) -> bool:
        """Does squashed `text` satisfy the query (every word and phrase, no excluded word)?"""
        return (all(p in text for p in self.phrases) and all(self.word_matched(text))
                and not any(has_word(text, stem(x)) for x in self.excluded))

    def spans(self, text: str) -> list[tuple[int, int, int]]:
        """(start, end, which) of every match in normalized `text`: `which` indexes words then
        phrases. The stem part of a word is the span (대전 of 대전시는), never a particle."""
        found: list[tuple[int, int, int]] = []
        stems = self.stems
        for which, alts in enumerate(self.alternatives):
            for word in alts:
                found.extend((s, e, which) for s, e in find_word(text, word) if not any(a < e and s < b for a, b, _ in found))
        for i in range(len(stems) - 1):  # 스마트시티 for 스마트 시티, where the words were not found apart
            for s, e in find_word(text, self.words[i] + stems[i + 1]):
                if not any(a < e and s < b for a, b, _ in found):
                    found.append((s, e, i))
        for j, phrase in enumerate(self.phrases):
            start = text.find(phrase)
            while start != -1:
                found.append((start, start + len(phrase), len(stems) + j))
                start = text.find(phrase, start + len(phrase))
        return sorted(found)


def parse_query(text: str) -> ParsedQuery:
    """Split a query into words, "quoted phrases" (an unclosed quote runs to the end) and
    -excluded words.

    Parts without a letter or digit (punctuation alone) are dropped: they match nothing
    the index can find.
    """
    words: list[str] = []
    phrases: list[str] = []
    excluded: list[str] = []
    for match in _PART.finditer(text or ""):
        phrase, word = match.group(1), match.group(2)
        if phrase is not None:
            value = squash(phrase)
            if query_terms(value) and value not in phrases:
                phrases.append(value)
        elif word is not None:
            target = words
            if word.startswith("-") and len(word) > 1:
                target, word = excluded, word[1:]
            value = squash(word)
            if query_terms(value) and query_terms(stem(value)) and value not in target:
                target.append(value)
    return ParsedQuery(tuple(words), tuple(phrases), tuple(excluded))
