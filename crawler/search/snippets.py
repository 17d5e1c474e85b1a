"""Highlighted snippets as data: text segments flagged highlighted or not.

Structured rather than marked-up so each front end escapes text its own way (the web layer
HTML-escapes every segment, the CLI escapes rich markup): no caller ever has to trust a
fragment of article text as markup.

Matches are found as search finds them (crawler.search.query.ParsedQuery.spans): a word by
its stem at an eojeol start, so 대전 is highlighted in 대전시는 (the stem only, not the
particle) and never inside 휴대전화. A plain sequence of strings is matched as substrings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from crawler.search.query import ParsedQuery

MAX_CHARS = 200  # text characters in all of a hit's snippets together (the "…" aside)


@dataclass(frozen=True)
class Segment:
    """A piece of article text; `highlight` when it is (part of) a match."""

    text: str
    highlight: bool = False


Query = Union["ParsedQuery", Sequence[str]]


_SPACE = re.compile(r"\s+")
_SIMPLE = re.compile(r"[\u0021-\u007e\uac00-\ud7a3\u00b7\u2018-\u201d\u2026\u3001-\u3011]+")


def _folded(text: str) -> tuple[str, list[int]]:
    """The text normalized for matching, whitespace runs as one space, with a map from each
    folded character back to its position in `text` (so matches land on the original)."""
    if text.isascii() or all(_SIMPLE.fullmatch(part) for part in _SPACE.split(text) if part):
        # letters that NFKC and case folding map one to one (Hangul syllables, ASCII): fold
        # the whole text at once and keep only the whitespace bookkeeping per character
        folded = unicodedata.normalize("NFKC", text).casefold()
        if len(folded) == len(text):
            chars, where = [], []
            for index, ch in enumerate(folded):
                if ch.isspace():
                    if chars and chars[-1] != " ":
                        chars.append(" ")
                        where.append(index)
                    continue
                chars.append(ch)
                where.append(index)
            return "".join(chars), where
    chars = []
    where = []
    for index, ch in enumerate(text):
        if ch.isspace():
            if chars and chars[-1] != " ":
                chars.append(" ")
                where.append(index)
            continue
        for out in unicodedata.normalize("NFKC", ch).casefold():
            chars.append(out)
            where.append(index)
    return "".join(chars), where


def _tagged_spans(text: str, query: Query) -> list[tuple[int, int, int]]:
    """(start, end, which) in `text` of every match, mapped back from the folded text."""
    folded, where = _folded(text)
    if hasattr(query, "spans"):
        found = query.spans(folded)  # type: ignore[union-attr]
    else:
        found = []
        for which, needle in enumerate(query):
            start = folded.find(needle) if needle else -1
            while start != -1:
                found.append((start, start + len(needle), which))
                start = folded.find(needle, start + len(needle))
    return sorted((where[s], where[e - 1] + 1, w) for s, e, w in found if e > s)


def match_spans(text: str, query: Query) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of `text` where the query matches, in order."""
    merged: list[tuple[int, int]] = []
    for start, end, _ in _tagged_spans(text, query):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, query: Query) -> list[Segment]:
    """The whole text as segments, matches highlighted (for titles)."""
    return _segments(text, 0, len(text), match_spans(text, query))


def _segments(text: str, start: int, end: int, spans: Sequence[tuple[int, int]]) -> list[Segment]:
    out: list[Segment] = []
    position = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        if s > position:
            out.append(Segment(text[position:s]))
        out.append(Segment(text[s:e], True))
        position = e
    if position < end:
        out.append(Segment(text[position:end]))
    return out


def _best_window(spans: Sequence[tuple[int, int, int]], size: int, length: int,
                 avoid: tuple[int, int] | None = None, want: set[int] | None = None) -> tuple[int, int] | None:
    """The window of `size` characters covering the most distinct query parts (then the most
    matches), a match a quarter in; None when no match is left outside `avoid`."""
    best: tuple[tuple[int, int], tuple[int, int]] | None = None
    for s, _e, _w in spans:
        lo = max(0, min(s - size // 4, length - size))
        hi = min(length, lo + size)
        if avoid and lo < avoid[1] and hi > avoid[0]:
            continue
        inside = [w for a, b, w in spans if a >= lo and b <= hi]
        if not inside:
            continue
        distinct = set(inside) if want is None else set(inside) & want
        score = (len(distinct), len(inside))
        if best is None or score > best[0]:
            best = (score, (lo, hi))
    return best[1] if best else None


def snippets(text: str, query: Query, *, max_chars: int = MAX_CHARS, limit: int = 2) -> list[list[Segment]]:
    """At most `max_chars` characters of text around the best matches, matches highlighted.

    One window when it holds every query part found in the text, else up to `limit` windows
    sharing the budget, the second for parts the first lacks. Windows open and close with "…"
    where they cut text; newlines become spaces. Without any match: the start of the text.
    """
    flat = " ".join(text.split())
    spans = _tagged_spans(flat, query)
    if not spans:
        return [_clip(flat, 0, min(len(flat), max_chars), [])] if flat else []
    everything = {w for _s, _e, w in spans}
    first = _best_window(spans, max_chars, len(flat))
    assert first is not None
    inside = {w for a, b, w in spans if a >= first[0] and b <= first[1]}
    windows = [first]
    if inside != everything and limit > 1:
        size = max_chars // limit
        windows = []
        missing = set(everything)
        for _ in range(limit):
            window = _best_window(spans, size, len(flat), windows[0] if windows else None, missing or None)
            if window is None:
                break
            windows.append(window)
            missing -= {w for a, b, w in spans if a >= window[0] and b <= window[1]}
            if not missing:
                break
        windows.sort()
    merged = match_spans(flat, query)
    return [_clip(flat, lo, hi, merged) for lo, hi in windows]


def _clip(text: str, lo: int, hi: int, spans: Sequence[tuple[int, int]]) -> list[Segment]:
    segments = _segments(text, lo, hi, spans)
    if lo > 0:
        segments.insert(0, Segment("…"))
    if hi < len(text):
        segments.append(Segment("…"))
    return segments
