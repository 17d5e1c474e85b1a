"""A query's candidates: the articles whose postings hold every term it needs.

The postings (crawler.search.index) say which articles hold a term's letters, not whether
they hold the word: candidates are a superset of the matches, which the engine
(crawler.search.engine) verifies on the articles' text. This module turns a parsed query
into the terms it needs (bigrams, start terms, a compound's loose inner bigrams, a
province's names) and intersects their posting lists, as numpy arrays of 64-bit keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timezone
from typing import Any

import numpy as np

from crawler.search.filters import Filters
from crawler.search.index import ENTRY, SearchIndex
from crawler.search.query import ParsedQuery
from crawler.store import Database, ObjectId
from crawler.store.articles import COLLECTION
from crawler.text.korean import split_points
from crawler.text.terms import START, TITLE, filter_term, is_cjk, normalize, query_terms


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


class SearchError(ValueError):
    """A query that cannot be run (no searchable word, bad page); the message says why."""


@dataclass
class Candidates:
    """The candidates of a query: sorted unique 64-bit keys, with their ids and posting times."""

    keys: np.ndarray
    ids: np.ndarray
    times: np.ndarray
    postings: dict[str, bytes]
    required_terms: list[str]
    segments: list[dict[str, Any]]
    total_docs: int
    read_ms: float


def find_candidates(db: Database[Any], query: str, parsed: ParsedQuery, filters: Filters) -> Candidates:
    """Articles whose postings hold every required term and filter term in the date range:
    a superset of the matches (verification reads the articles)."""
    started = time.perf_counter()
    required_terms, loose, either = word_terms(parsed)
    if not required_terms and not either:
        raise SearchError(f"query {query!r} has no word to search for (letters or digits)")
    scored = [t for _word, word_terms in terms_by_word(parsed) for t in word_terms]  # idf and title bonus read these
    terms = list(dict.fromkeys(required_terms + [t for group in loose + either for t in group] + scored))
    index = SearchIndex(db)
    segments = index.live_segments()
    lo = int(filters.since.timestamp()) if filters.since else 0
    hi = int(filters.until.timestamp()) if filters.until else 2**32
    in_range = [s for s in segments if s.get("first", 0) < hi and s.get("last", 2**32) >= lo]
    total_docs = max(1, index.article_count(in_range))  # idf over the segments read
    groups = filter_groups(filters)
    wanted = terms + [TITLE + t for t in terms if not t.startswith(START)] + [t for group in groups for t in group]
    postings = index.read(wanted, in_range)
    read_ms = _ms(started)
    ranked_terms = sorted(required_terms, key=lambda t: len(postings[t]))
    if ranked_terms:
        first = Postings(postings[ranked_terms[0]])
    else:  # only provinces: start from the articles with any name of the first
        first = Postings(b"".join(postings[t] for t in either[0]))
        either = either[1:]
    keep = (first.times >= lo) & (first.times < hi)
    keys, unique = np.unique(first.keys[keep], return_index=True)  # an article once, whatever its copies
    ids, times = first.ids[keep][unique], first.times[keep][unique]
    # keys stay sorted (np.unique sorts them), so each test below is a binary search of
    # every entry of the other list into the candidates, never a sort of the other list.
    required: list[Callable[[], np.ndarray]] = [lambda t=t: Postings(postings[t]).keys for t in ranked_terms[1:]]
    required += [lambda g=g: np.concatenate([Postings(postings[t]).keys for t in g]) for g in groups + either]
    if filters.stories:
        required.append(lambda: story_keys(db, filters.stories))
    if filters.sidos or filters.sigungus:
        required.append(lambda: place_keys(db, filters))
    for present in required:
        if not len(keys):
            break
        mask = member(keys, present())
        keys, ids, times = keys[mask], ids[mask], times[mask]
    for group in loose:  # a compound's inner bigrams: all but one (스마트 시티 lacks 트시)
        if not len(keys):
            break
        have = sum(member(keys, Postings(postings[t]).keys).astype(np.int32) for t in group)
        mask = have >= len(group) - 1
        keys, ids, times = keys[mask], ids[mask], times[mask]

    return Candidates(keys, ids, times, postings, required_terms, in_range, total_docs, read_ms)


def word_terms(parsed: ParsedQuery) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """Index terms every match has, groups of terms of which all but one are needed, and
    groups of which any one is (a province named in full or short: 충청남도 or 충남).

    A Hangul compound stem may be written with a space inside (스마트 시티), which drops the
    bigram across the space: its inner bigrams (the ones a split leaving two letters each
    side can cut) form a loose group. Phrases and other words need all their terms.

    The first word also needs its start term (START + its first two letters): it matches
    only where it begins an eojeol. A later word may be found written together with the
    word before it (스마트 시티 in 스마트시티), so it needs its start term or the bigram
    across the two words.
    """
    required: list[str] = []
    loose: list[list[str]] = []
    either: list[list[str]] = []
    for position, (word_stem, alts) in enumerate(zip(parsed.stems, parsed.alternatives)):
        if len(alts) > 1:  # a province by any of its names: one term of each name, any of them
            either.append(list(dict.fromkeys(start_term(a) if position == 0 else query_terms(a)[0] for a in alts)))
            continue
        if position == 0 and start_term(word_stem).startswith(START):
            required.append(start_term(word_stem))
        elif start_term(word_stem).startswith(START):
            # a later word starts an eojeol, or is written together with the word before it
            # (지역경제 for 지역 경제), which leaves the bigram across the two
            across = query_terms(normalize(parsed.words[position - 1])[-1:] + normalize(word_stem)[:1])
            either.append([start_term(word_stem), *[t for t in across if len(t) == 2]])
        word_terms = query_terms(word_stem)
        cuts = split_points(word_stem)
        if len(cuts) and len(word_terms) == len(word_stem) - 1:
            inner = word_terms[1:-1]
            word_terms = [word_terms[0], word_terms[-1]]
            if inner:
                loose.append(inner)
            # at each place a space may fall, the compound has the bigram across it, or the
            # space and so its next part starts an eojeol (세계대전 or 세계 대전)
            stem_text = normalize(word_stem)
            either += [[stem_text[i - 1 : i + 1], START + stem_text[i : i + 2]] for i in cuts]
        required += [t for t in word_terms if t not in required]
    for phrase in parsed.phrases:
        required += [t for t in query_terms(phrase) if t not in required]
    return required, loose, either


def start_term(word_stem: str) -> str:
    """START + the first two letters of a Hangul stem; else its first query term."""
    first = normalize(word_stem)
    if len(first) >= 2 and is_cjk(first[0]) and is_cjk(first[1]):
        return START + first[:2]
    return query_terms(word_stem)[0]


def terms_by_word(parsed: ParsedQuery) -> list[tuple[str, list[str]]]:
    """(stem or phrase, its terms) for idf: a word is at most as common as its rarest bigram."""
    out = []
    for needle in parsed.stems + parsed.phrases:
        found = query_terms(needle)
        if found:
            out.append((needle, found))
    return out


def filter_groups(filters: Filters) -> list[list[str]]:
    """Filter terms grouped by field: any term of a group, every group."""
    groups = []
    for kind, values in (("o", filters.outlets), ("r", filters.regions), ("s", filters.sections)):
        if values:
            groups.append([filter_term(kind, v) for v in values])
    return groups


class Postings:
    """A posting list as arrays: 12-byte ids, times, and a 64-bit key per id for set tests.

    numpy's isin on 64-bit integers is what keeps intersecting 50k-entry lists in
    milliseconds; the key mixes all 12 bytes of the ObjectId (a collision would only add a
    candidate, which verification then drops).
    """

    _DTYPE = np.dtype([("hi", ">u8"), ("lo", ">u4"), ("t", ">u4")])
    _IDS = np.dtype([("id", "V12"), ("t", ">u4")])

    def __init__(self, blob: bytes) -> None:
        usable = len(blob) - len(blob) % ENTRY
        entries = np.frombuffer(blob[:usable], dtype=self._DTYPE)
        self.keys = entries["hi"].astype(np.uint64) ^ (entries["lo"].astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
        self.times = entries["t"].astype(np.int64)
        self.ids = np.frombuffer(blob[:usable], dtype=self._IDS)["id"]


def member(sorted_keys: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Mask of `sorted_keys` (sorted, unique) that occur in `present` (any order, repeats).

    O(len(present) * log(len(sorted_keys))): cheap when the candidates are few and the
    other posting list is long, which is the usual case after the rarest term.
    """
    found = np.zeros(len(sorted_keys), dtype=bool)
    if not len(sorted_keys) or not len(present):
        return found
    at = np.searchsorted(sorted_keys, present)
    inside = at < len(sorted_keys)
    at, present = at[inside], present[inside]
    found[at[sorted_keys[at] == present]] = True
    return found


def story_keys(db: Database[Any], stories: Sequence[str]) -> np.ndarray:
    """Keys of the articles of these stories (the story_id index, a handful of copies each)."""
    found = [d["_id"].binary for d in articles_collection(db).find({"story_id": {"$in": list(stories)}}, {"_id": 1})
             if isinstance(d["_id"], ObjectId)]
    return Postings(b"".join(i + b"\0\0\0\0" for i in found)).keys


def articles_collection(db: Database[Any]) -> Any:
    """The articles collection, datetimes read back aware in UTC whatever the client."""
    return db.get_collection(COLLECTION, codec_options=db.codec_options.with_options(tz_aware=True, tzinfo=timezone.utc))


def place_keys(db: Database[Any], filters: Filters) -> np.ndarray:
    """Keys of the articles in the filters' 시도 / 시군구 and date range (the sido/sigungu +
    published indexes; the postings hold no place terms, so a re-tagged article is found)."""
    clauses = filters.mongo()
    query = {k: clauses[k] for k in ("sigungu", "sido", "published") if k in clauses}  # an indexed place first
    found = [d["_id"].binary for d in articles_collection(db).find(query, {"_id": 1}) if isinstance(d["_id"], ObjectId)]
    return Postings(b"".join(i + b"\0\0\0\0" for i in found)).keys
