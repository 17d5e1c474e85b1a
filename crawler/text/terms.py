"""Search terms for Korean text: character bigrams, because whitespace words do not work.

Korean attaches particles and endings to nouns (대전시는, 대전시가, 대전시의), so a
whitespace token is rarely the word a reader types. Character bigrams of every Hangul/CJK
run match inside such words: the query 대전시 becomes 대전 + 전시, and every form of it
contains both. Latin letters and digits keep whole tokens (KTX, 2025, 5g). The first
character of each run is also a term, so a one-syllable query (쌀, 비) finds the words it
starts. Index and query go through the same `normalize`, so they always agree.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator

# Whole Latin/digit tokens longer than this are cut: URLs and hashes are not search words.
MAX_TOKEN = 32
TITLE = "^"  # prefix of a term seen in the title (ranking boost)
FILTER = "@"  # prefix of filter terms: @o:outlet, @r:region, @s:section
START = "<"  # prefix of a bigram that starts a CJK run (an eojeol's first two letters)


def normalize(text: str) -> str:
    """NFKC (full-width Latin, compatibility jamo) and case folding: what index and query share."""
    return unicodedata.normalize("NFKC", text or "").casefold()


_CJK = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# The same terms as run_terms over runs(), found by the regex engine rather than by walking
# characters in Python: every stored article is indexed (the search queue's drain, which
# `bench/search_bench.py --drain` times).
_BIGRAM = re.compile(f"(?=([{_CJK}][{_CJK}]))")
_RUN_START = re.compile(f"(?<![{_CJK}])[{_CJK}]")
_START_BIGRAM = re.compile(f"(?<![{_CJK}])([{_CJK}][{_CJK}])")
_TOKEN = re.compile(f"(?:(?![{_CJK}])[^\\W_])+")


def is_cjk(ch: str) -> bool:
    """Hangul syllables and jamo, CJK ideographs, kana: scripts written without word spaces."""
    code = ord(ch)
    return (
        0xAC00 <= code <= 0xD7A3  # Hangul syllables
        or 0x1100 <= code <= 0x11FF  # Hangul jamo
        or 0x3130 <= code <= 0x318F  # compatibility jamo
        or 0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
    )


def runs(normalized: str) -> Iterator[tuple[bool, str]]:
    """(is_cjk, run) for each maximal run of CJK characters or of other letters/digits."""
    start = 0
    kind: bool | None = None
    for index, ch in enumerate(normalized):
        this = True if is_cjk(ch) else (False if ch.isalnum() else None)
        if this != kind:
            if kind is not None:
                yield kind, normalized[start:index]
            start, kind = index, this
    if kind is not None:
        yield kind, normalized[start:]


def run_terms(cjk: bool, run: str) -> list[str]:
    """Terms of one run: its first character and bigrams (CJK), or the whole token."""
    if not cjk:
        return [run[:MAX_TOKEN]]
    return [run[0], *(run[i : i + 2] for i in range(len(run) - 1))]


def text_terms(text: str, *, starts: bool = False) -> set[str]:
    """The distinct terms of `text` (normalized first): what the index stores for it, with
    `starts` its start terms too (start_terms, from the same normalized text).

    Equal to the union of run_terms over runs(normalize(text)).
    """
    normalized = normalize(text)
    terms = set(_BIGRAM.findall(normalized))
    if starts:
        terms.update(map(START.__add__, _START_BIGRAM.findall(normalized)))
    terms.update(_RUN_START.findall(normalized))
    terms.update(token[:MAX_TOKEN] for token in _TOKEN.findall(normalized))
    return terms


def start_terms(text: str) -> set[str]:
    """START + the first two letters of every CJK run of `text` (normalized first).

    A query word is found where it starts an eojeol (crawler.text.korean), so its first
    bigram as a start term narrows the candidates to articles where some eojeol begins
    with it: 시장 keeps 시장은 and drops articles that have it only inside 전통시장.
    """
    return {START + pair for pair in _START_BIGRAM.findall(normalize(text))}


def query_terms(word: str) -> list[str]:
    """The terms a query word or phrase needs, all of them, without repeats.

    A CJK run of one character needs only that character (a run start); longer runs need
    their bigrams (the run start is implied by them and would only narrow to word starts).
    """
    terms: list[str] = []
    for cjk, run in runs(normalize(word)):
        found = [run[0]] if cjk and len(run) == 1 else (run_terms(cjk, run)[1:] if cjk else run_terms(cjk, run))
        for term in found:
            if term not in terms:
                terms.append(term)
    return terms


def filter_term(kind: str, value: str) -> str:
    """The term for a filter value (kind o/r/s): safe as a MongoDB field name, stable.

    Values with a dot, a dollar sign or of unusual length are hashed: they would not be
    valid (or sensible) field names in the postings documents.
    """
    value = normalize(value).strip()
    if not value or "." in value or "$" in value or "\x00" in value or len(value) > 40:
        value = "#" + hashlib.blake2b(value.encode("utf-8"), digest_size=8).hexdigest()
    return f"{FILTER}{kind}:{value}"
