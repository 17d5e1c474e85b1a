"""Ranked Korean full-text search over `articles`, the same on SecantusDB and MongoDB.

A query is answered from the postings (crawler.search.index) without touching the
articles collection until the page to show is known:

1. read the postings of every query term, its title variant and the filter terms
   (a few `_id` lookups per segment);
2. intersect, rarest term first, keeping only entries inside the date range (postings
   carry the published time); story filters intersect with the story_id index;
3. order the candidates by a cheap estimate (idf of the words the title has, then recency),
   or by recency alone for sort="newest";
4. fetch the articles in that order and verify them: every word must occur the Korean way
   (crawler.text.korean: its stem at a word start, then only particles, endings or
   administrative forms; 대전 not in 휴대전화), every "phrase" as written, no -excluded word,
   and the filters must still hold (postings of a revised article can be stale). By
   relevance, the first RERANK_WINDOW verified (or the pages up to this one, if more) are
   scored with BM25 on their text (title occurrences weigh TITLE_WEIGHT) and sorted; by
   newest, only as many as the page needs are fetched. At most VERIFY_LIMIT failures are
   read past; the total is exact when every candidate was checked, else estimated from the
   share that passed.
5. build highlighted snippets for the page.

Nothing here uses $text (SecantusDB has none) or sorts in the database. The postings are
the search package's own storage format (crawler.search.index), so the engine reads them and
the articles they point to itself; it takes the database and id types from crawler.store.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from crawler.search.filters import Filters
from crawler.search.index import ENTRY, SearchIndex
from crawler.search.query import ParsedQuery, parse_query, squash
from crawler.search.snippets import Segment, highlight, snippets
from crawler.store import Database, ObjectId
from crawler.store.articles import COLLECTION
from crawler.text.korean import split_points
from crawler.text.terms import TITLE, filter_term, query_terms

TITLE_WEIGHT = 3.0  # a title occurrence counts as this many body occurrences
BM25_K1 = 1.2
BM25_B = 0.5  # mild length normalization: news bodies vary less than web pages
RERANK_WINDOW = 200  # verified candidates scored with BM25 (relevance sort)
SORTS = ("relevance", "newest")
VERIFY_LIMIT = 1000  # candidates that may fail verification before a page stops filling
MAX_PER_PAGE = 100
_FETCH_CHUNK = 100
DISPLAY_FIELDS = {"_id": 1, "canonical_url": 1, "url": 1, "outlet": 1, "title": 1, "subtitle": 1, "body": 1,
                  "published": 1, "region": 1, "sido": 1, "sigungu": 1, "sections": 1, "story_id": 1, "authors": 1}


class SearchError(ValueError):
    """A query that cannot be run (no searchable word, bad page); the message says why."""


@dataclass
class Hit:
    """One article on the results page. Datetimes are aware UTC; show them in Asia/Seoul."""

    id: str
    canonical_url: str
    url: str
    outlet: str
    title: str
    published: datetime | None
    region: str | None
    sections: list[str]
    authors: list[str]
    story_id: str | None
    score: float
    title_segments: list[Segment]
    snippets: list[list[Segment]]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON: segments as {"text", "highlight"} objects."""
        def segs(items: Sequence[Segment]) -> list[dict[str, Any]]:
            return [{"text": s.text, "highlight": s.highlight} for s in items]

        return {
            "id": self.id, "canonical_url": self.canonical_url, "url": self.url, "outlet": self.outlet,
            "title": self.title, "published": self.published, "region": self.region, "sections": self.sections,
            "authors": self.authors, "story_id": self.story_id, "score": round(self.score, 4),
            "title_segments": segs(self.title_segments), "snippets": [segs(s) for s in self.snippets],
        }


@dataclass
class SearchResult:
    """A page of hits and how they were found.

    `total` is exact when `total_exact`; otherwise the candidates not yet verified are
    counted at the rate the verified ones passed (bigrams of a word can all occur without
    the word; a phrase's words can occur apart).
    """

    query: str
    parsed: ParsedQuery
    hits: list[Hit]
    total: int
    total_exact: bool
    page: int
    per_page: int
    candidates: int
    took_ms: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query, "words": list(self.parsed.words), "phrases": list(self.parsed.phrases),
            "total": self.total, "total_exact": self.total_exact, "page": self.page, "per_page": self.per_page,
            "pages": self.pages, "candidates": self.candidates, "took_ms": round(self.took_ms, 1),
            "hits": [h.as_dict() for h in self.hits],
        }


def search(
    db: Database[Any],
    query: str,
    filters: Filters | None = None,
    *,
    page: int = 1,
    per_page: int = 20,
    sort: str = "relevance",
) -> SearchResult:
    """Search the articles of `db` for `query` (words, "exact phrases", -excluded words); one
    page of hits, by relevance (BM25 with a title weight) or newest first (`sort`).

    SearchError for a query without any searchable word, a page out of range or an unknown sort.
    """
    started = time.perf_counter()
    filters = (filters or Filters()).resolved(db)
    if page < 1:
        raise SearchError(f"page must be 1 or more, not {page}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise SearchError(f"per_page must be between 1 and {MAX_PER_PAGE}, not {per_page}")
    if sort not in SORTS:
        raise SearchError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    parsed = parse_query(query)
    required_terms, loose = _word_terms(parsed)
    if not required_terms:
        raise SearchError(f"query {query!r} has no word to search for (letters or digits)")
    terms = required_terms + [t for group in loose for t in group]
    timings: dict[str, float] = {}
    index = SearchIndex(db)
    segments = index.live_segments()
    lo = int(filters.since.timestamp()) if filters.since else 0
    hi = int(filters.until.timestamp()) if filters.until else 2**32
    in_range = [s for s in segments if s.get("first", 0) < hi and s.get("last", 2**32) >= lo]
    total_docs = max(1, index.article_count(in_range))  # idf over the segments read
    groups = _filter_groups(filters)
    wanted = terms + [TITLE + t for t in terms] + [t for group in groups for t in group]
    postings = index.read(wanted, in_range)
    timings["read_ms"] = _ms(started)

    mark = time.perf_counter()
    ranked_terms = sorted(required_terms, key=lambda t: len(postings[t]))
    first = _Postings(postings[ranked_terms[0]])
    keep = (first.times >= lo) & (first.times < hi)
    keys, unique = np.unique(first.keys[keep], return_index=True)  # an article once, whatever its copies
    ids, times = first.ids[keep][unique], first.times[keep][unique]
    # keys stay sorted (np.unique sorts them), so each test below is a binary search of
    # every entry of the other list into the candidates, never a sort of the other list.
    required: list[Callable[[], np.ndarray]] = [lambda t=t: _Postings(postings[t]).keys for t in ranked_terms[1:]]
    required += [lambda g=g: np.concatenate([_Postings(postings[t]).keys for t in g]) for g in groups]
    if filters.stories:
        required.append(lambda: _story_keys(db, filters.stories))
    if filters.sidos or filters.sigungus:
        required.append(lambda: _place_keys(db, filters))
    for present in required:
        if not len(keys):
            break
        mask = _member(keys, present())
        keys, ids, times = keys[mask], ids[mask], times[mask]
    for group in loose:  # a compound's inner bigrams: all but one (스마트 시티 lacks 트시)
        if not len(keys):
            break
        have = sum(_member(keys, _Postings(postings[t]).keys).astype(np.int32) for t in group)
        mask = have >= len(group) - 1
        keys, ids, times = keys[mask], ids[mask], times[mask]

    # Candidates are read in the order of a cheap estimate (which words the title has, then
    # recency); by relevance, the first RERANK_WINDOW that pass verification are scored
    # with BM25 on their text and sorted, by newest the verified order is the answer.
    idfs = {}
    bonus = np.zeros(len(keys))
    for word, word_terms in _terms_by_word(parsed):
        df = min(len(postings[t]) // ENTRY for t in word_terms)  # at most this many have the word
        idfs[word] = math.log(1 + (total_docs - df + 0.5) / (df + 0.5))
        if sort == "relevance" and len(keys):
            title_keys = [_Postings(postings[TITLE + t]).keys for t in word_terms if postings[TITLE + t]]
            if len(title_keys) == len(word_terms):
                inside = np.ones(len(keys), dtype=bool)
                for k in title_keys:
                    inside &= _member(keys, k)
                bonus += idfs[word] * inside
    order = np.lexsort((times, bonus))[::-1]  # bonus, then time, both descending
    candidates = len(order)
    offset = (page - 1) * per_page
    wanted_hits = offset + per_page
    want_verified = max(wanted_hits, RERANK_WINDOW) if sort == "relevance" else wanted_hits
    top = order[: want_verified + VERIFY_LIMIT]  # room for the ones verification rejects
    ranked = [ids[i].tobytes() for i in top]
    timings["rank_ms"] = _ms(mark)

    mark = time.perf_counter()
    passed: list[tuple[bytes, dict[str, Any], float]] = []
    checked = 0
    first_round = max(20, want_verified + want_verified // 2) if sort == "relevance" else max(20, wanted_hits + wanted_hits // 2)
    for article_id, doc in _fetch_in_order(db, ranked, len(ranked), first=first_round):
        checked += 1
        if doc is None or not filters.accepts(_aware(doc)):
            continue
        fields = _fields(doc)
        if not parsed.matches(fields[0] + "\n" + fields[1]):
            continue
        passed.append((article_id, doc, 0.0))
        if len(passed) >= want_verified:
            break
    exact = checked >= candidates
    verified = len(passed)
    # Unverified candidates are estimated to pass at the rate the checked ones did.
    total = verified if exact else verified + round((candidates - checked) * verified / max(1, checked))
    if sort == "relevance" and passed:
        passed = _bm25(passed, parsed, idfs)
    shown = passed[offset:wanted_hits]
    timings["verify_ms"] = _ms(mark)

    hits = [_hit(doc, score, parsed) for _article_id, doc, score in shown]
    return SearchResult(query, parsed, hits, total, exact, page, per_page, candidates, _ms(started), timings)


def _word_terms(parsed: ParsedQuery) -> tuple[list[str], list[list[str]]]:
    """Index terms every match has, and groups of terms of which all but one are needed.

    A Hangul compound stem may be written with a space inside (스마트 시티), which drops the
    bigram across the space: its inner bigrams (the ones a split leaving two letters each
    side can cut) form a loose group. Phrases and other words need all their terms.
    """
    required: list[str] = []
    loose: list[list[str]] = []
    for word_stem in parsed.stems:
        word_terms = query_terms(word_stem)
        cuts = split_points(word_stem)
        if len(cuts) and len(word_terms) == len(word_stem) - 1:
            inner = word_terms[1:-1]
            word_terms = [word_terms[0], word_terms[-1]]
            if inner:
                loose.append(inner)
        required += [t for t in word_terms if t not in required]
    for phrase in parsed.phrases:
        required += [t for t in query_terms(phrase) if t not in required]
    return required, loose


def _terms_by_word(parsed: ParsedQuery) -> list[tuple[str, list[str]]]:
    """(stem or phrase, its terms) for idf: a word is at most as common as its rarest bigram."""
    out = []
    for needle in parsed.stems + parsed.phrases:
        found = query_terms(needle)
        if found:
            out.append((needle, found))
    return out


def _fields(doc: dict[str, Any]) -> tuple[str, str]:
    """(title, subtitle and body), squashed: what words and phrases match in."""
    title = squash(str(doc.get("title") or ""))
    rest = squash("\n".join(str(doc.get(name) or "") for name in ("subtitle", "body")))
    return title, rest


def _bm25(passed: list[tuple[bytes, dict[str, Any], float]], parsed: ParsedQuery,
          idfs: dict[str, float]) -> list[tuple[bytes, dict[str, Any], float]]:
    """Score verified articles with BM25 over words and phrases, a title occurrence counting
    TITLE_WEIGHT times, length normalized against the verified set's mean; best first, ties to
    the newer article."""
    needles = parsed.stems + parsed.phrases
    rows = []
    for article_id, doc, _ in passed:
        title, rest = _fields(doc)
        counts_title = [0] * len(needles)
        counts_rest = [0] * len(needles)
        for counts, text in ((counts_title, title), (counts_rest, rest)):
            for _s, _e, which in parsed.spans(text):
                counts[which] += 1
        length = len(title) * TITLE_WEIGHT + len(rest)
        rows.append((article_id, doc, counts_title, counts_rest, length))
    mean = sum(r[4] for r in rows) / len(rows) or 1.0
    scored = []
    for article_id, doc, counts_title, counts_rest, length in rows:
        norm = BM25_K1 * (1 - BM25_B + BM25_B * length / mean)
        score = 0.0
        for i, needle in enumerate(needles):
            tf = TITLE_WEIGHT * counts_title[i] + counts_rest[i]
            score += idfs.get(needle, 1.0) * tf * (BM25_K1 + 1) / (tf + norm) if tf else 0.0
        scored.append((article_id, doc, score))
    when = {article_id: _time(doc) for article_id, doc, _ in scored}
    scored.sort(key=lambda r: (r[2], when[r[0]]), reverse=True)
    return scored


def _time(doc: dict[str, Any]) -> float:
    published = doc.get("published")
    return published.timestamp() if isinstance(published, datetime) else 0.0


def _filter_groups(filters: Filters) -> list[list[str]]:
    """Filter terms grouped by field: any term of a group, every group."""
    groups = []
    for kind, values in (("o", filters.outlets), ("r", filters.regions), ("s", filters.sections)):
        if values:
            groups.append([filter_term(kind, v) for v in values])
    return groups


class _Postings:
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


def _member(sorted_keys: np.ndarray, present: np.ndarray) -> np.ndarray:
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


def _story_keys(db: Database[Any], stories: Sequence[str]) -> np.ndarray:
    """Keys of the articles of these stories (the story_id index, a handful of copies each)."""
    found = [d["_id"].binary for d in _articles(db).find({"story_id": {"$in": list(stories)}}, {"_id": 1})
             if isinstance(d["_id"], ObjectId)]
    return _Postings(b"".join(i + b"\0\0\0\0" for i in found)).keys


def _place_keys(db: Database[Any], filters: Filters) -> np.ndarray:
    """Keys of the articles in the filters' 시도 / 시군구 and date range (the sido/sigungu +
    published indexes; the postings hold no place terms, so a re-tagged article is found)."""
    clauses = filters.mongo()
    query = {k: clauses[k] for k in ("sigungu", "sido", "published") if k in clauses}  # an indexed place first
    found = [d["_id"].binary for d in _articles(db).find(query, {"_id": 1}) if isinstance(d["_id"], ObjectId)]
    return _Postings(b"".join(i + b"\0\0\0\0" for i in found)).keys


def _fetch_in_order(
    db: Database[Any], ranked: Sequence[bytes], limit: int, *, first: int
) -> Iterator[tuple[bytes, dict[str, Any] | None]]:
    """The articles of `ranked[:limit]` in rank order, by _id, `first` then twice as many
    each round (a page usually needs one round; rejections fetch more)."""
    start, size = 0, first
    while start < limit:
        chunk = ranked[start : min(limit, start + size)]
        found: dict[bytes, dict[str, Any]] = {}
        for part in range(0, len(chunk), _FETCH_CHUNK):
            ids = [ObjectId(k) for k in chunk[part : part + _FETCH_CHUNK]]
            found.update((d["_id"].binary, d) for d in _articles(db).find({"_id": {"$in": ids}}, DISPLAY_FIELDS))
        for article_id in chunk:
            yield article_id, found.get(article_id)
        start += len(chunk)
        size *= 2


def _articles(db: Database[Any]) -> Any:
    """The articles collection, datetimes read back aware in UTC whatever the client."""
    return db.get_collection(COLLECTION, codec_options=db.codec_options.with_options(tz_aware=True, tzinfo=timezone.utc))


def _aware(doc: dict[str, Any]) -> dict[str, Any]:
    published = doc.get("published")
    if isinstance(published, datetime) and published.tzinfo is None:
        doc["published"] = published.replace(tzinfo=timezone.utc)
    return doc


def _hit(doc: dict[str, Any], score: float, parsed: ParsedQuery) -> Hit:
    title = str(doc.get("title") or "")
    text = "\n".join(str(doc.get(name) or "") for name in ("subtitle", "body") if doc.get(name))
    return Hit(
        id=str(doc["_id"]), canonical_url=doc.get("canonical_url", ""), url=doc.get("url", ""),
        outlet=doc.get("outlet", ""), title=title, published=doc.get("published"), region=doc.get("region"),
        sections=list(doc.get("sections") or []), authors=list(doc.get("authors") or []),
        story_id=doc.get("story_id"), score=score,
        title_segments=highlight(title, parsed), snippets=snippets(text, parsed),
    )


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000
