"""Highlighted snippets as data: text segments flagged highlighted or not.

Structured rather than marked-up so each front end escapes text its own way (the web layer
HTML-escapes every segment, the CLI escapes rich markup): no caller ever has to trust a
fragment of article text as markup.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """A piece of article text; `highlight` when it is (part of) a match."""

    text: str
    highlight: bool = False


def _folded(text: str) -> tuple[str, list[int]]:
    """The text normalized for matching, whitespace runs as one space, with a map from each
    folded character back to its position in `text` (so matches land on the original)."""
    chars: list[str] = []
    where: list[int] = []
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


def match_spans(text: str, needles: Sequence[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of `text` where any needle occurs, in order."""
    folded, where = _folded(text)
    spans: list[tuple[int, int]] = []
    for needle in needles:
        if not needle:
            continue
        start = folded.find(needle)
        while start != -1:
            end = start + len(needle)
            spans.append((where[start], where[end - 1] + 1))
            start = folded.find(needle, end)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, needles: Sequence[str]) -> list[Segment]:
    """The whole text as segments, matches highlighted (for titles)."""
    return _segments(text, 0, len(text), match_spans(text, needles))


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


def snippets(text: str, needles: Sequence[str], *, width: int = 60, limit: int = 2) -> list[list[Segment]]:
    """Up to `limit` windows of about 2*`width` characters around matches, matches highlighted.

    Windows open with "…" where they cut text, newlines become spaces, and a window covers
    every match close enough to it. Without any match: the start of the text.
    """
    flat = " ".join(text.split())
    spans = match_spans(flat, needles)
    if not spans:
        return [_clip(flat, 0, min(len(flat), 2 * width), [])] if flat else []
    windows: list[tuple[int, int]] = []
    for s, e in spans:
        lo, hi = max(0, s - width), min(len(flat), e + width)
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], hi)
        elif len(windows) < limit:
            windows.append((lo, hi))
    return [_clip(flat, lo, hi, spans) for lo, hi in windows]


def _clip(text: str, lo: int, hi: int, spans: Sequence[tuple[int, int]]) -> list[Segment]:
    segments = _segments(text, lo, hi, spans)
    if lo > 0:
        segments.insert(0, Segment("…"))
    if hi < len(text):
        segments.append(Segment("…"))
    return segments
