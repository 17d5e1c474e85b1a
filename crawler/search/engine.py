"""Ranked Korean full-text search over `articles`, the same on SecantusDB and MongoDB.

A query is answered from the postings (crawler.search.index) without touching the
articles collection until the page to show is known:

1-2. find the candidates (crawler.search.candidates): read the postings of every query
   term (bigrams, the first word's start term, a province's names), its title variant and
   the filter terms, and intersect them, rarest first, inside the date range;
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
5. build highlighted snippets for the page; with facets, count the candidates per outlet,
   region, section and day, each weighed by its verification (crawler.search.facets).

Nothing here uses $text (SecantusDB has none) or sorts in the database. The postings are
the search package's own storage format (crawler.search.index), so the engine reads them and
the articles they point to itself; it takes the database and id types from crawler.store.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from crawler.search.candidates import (
    Postings,
    SearchError,
    articles_collection,
    find_candidates,
    member,
    terms_by_word,
)
from crawler.search.facets import KINDS, Facets, count_values, day_axis, histogram, split_by
from crawler.search.filters import Filters
from crawler.search.index import ENTRY
from crawler.search.query import ParsedQuery, parse_query, squash
from crawler.search.snippets import Segment, highlight, snippets
from crawler.store import Database, ObjectId
from crawler.text.terms import START, TITLE

TITLE_WEIGHT = 3.0  # a title occurrence counts as this many body occurrences
BM25_K1 = 1.2
BM25_B = 0.5  # mild length normalization: news bodies vary less than web pages
RERANK_WINDOW = 100  # verified candidates scored with BM25 (relevance sort); bench/search_bench.py times it
SORTS = ("relevance", "newest")
VERIFY_LIMIT = 1000  # candidates that may fail verification before a page stops filling
MAX_PER_PAGE = 100
FACET_SAMPLE = 100  # candidates verified at least, when facets are asked for, to estimate the rest
_FETCH_CHUNK = 100
DISPLAY_FIELDS = {"_id": 1, "canonical_url": 1, "url": 1, "outlet": 1, "title": 1, "subtitle": 1, "body": 1,
                  "published": 1, "region": 1, "sido": 1, "sigungu": 1, "sections": 1, "story_id": 1, "authors": 1}


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
    facets: Facets | None = None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query, "words": list(self.parsed.words), "phrases": list(self.parsed.phrases),
            "total": self.total, "total_exact": self.total_exact, "page": self.page, "per_page": self.per_page,
            "pages": self.pages, "candidates": self.candidates, "took_ms": round(self.took_ms, 1),
            "hits": [h.as_dict() for h in self.hits],
            **({"facets": self.facets.as_dict()} if self.facets is not None else {}),
        }


def search(
    db: Database[Any],
    query: str,
    filters: Filters | None = None,
    *,
    page: int = 1,
    per_page: int = 20,
    sort: str = "relevance",
    facets: bool = False,
    split: str | None = None,
) -> SearchResult:
    """Search the articles of `db` for `query` (words, "exact phrases", -excluded words); one
    page of hits, by relevance (BM25 with a title weight) or newest first (`sort`). With
    `facets`, also the matching articles' counts per outlet, region, section and day
    (crawler.search.facets), estimated like the total when not every candidate was verified;
    `split` (outlet, region or section) adds each value's counts per day: a trend.

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
    if split is not None and split not in KINDS:
        raise SearchError(f"split must be one of {', '.join(KINDS)}, not {split!r}")
    facets = facets or split is not None
    parsed = parse_query(query)
    timings: dict[str, float] = {}
    found = find_candidates(db, query, parsed, filters)
    keys, ids, times, postings = found.keys, found.ids, found.times, found.postings
    required_terms, in_range, total_docs = found.required_terms, found.segments, found.total_docs
    timings["read_ms"] = found.read_ms
    mark = time.perf_counter()

    # Candidates are read in the order of a cheap estimate (which words the title has, then
    # recency); by relevance, the first RERANK_WINDOW that pass verification are scored
    # with BM25 on their text and sorted, by newest the verified order is the answer.
    idfs = {}
    bonus = np.zeros(len(keys))
    for word, word_terms in terms_by_word(parsed):
        counted = word_terms + [t for t in required_terms[:1] if t.startswith(START) and word == parsed.stems[0]]
        df = min(len(postings[t]) // ENTRY for t in counted)  # at most this many have the word
        idfs[word] = math.log(1 + (total_docs - df + 0.5) / (df + 0.5))
        if sort == "relevance" and len(keys):
            title_keys = [Postings(postings[TITLE + t]).keys for t in word_terms if postings[TITLE + t]]
            if len(title_keys) == len(word_terms):
                inside = np.ones(len(keys), dtype=bool)
                for k in title_keys:
                    inside &= member(keys, k)
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
    passed_at: list[int] = []  # candidate positions (in keys/ids/times) that passed
    checked = 0
    min_checked = min(candidates, FACET_SAMPLE) if facets else 0
    first_round = max(20, want_verified + want_verified // 2) if sort == "relevance" else max(20, wanted_hits + wanted_hits // 2)
    first_round = max(first_round, min_checked)
    for position, (article_id, doc) in enumerate(_fetch_in_order(db, ranked, len(ranked), first=first_round)):
        checked += 1
        if doc is None or not filters.accepts(_aware(doc)):
            continue
        fields = _fields(doc)
        if not parsed.matches(fields[0] + "\n" + fields[1]):
            continue
        passed.append((article_id, doc, 0.0))
        passed_at.append(int(top[position]))
        if len(passed) >= want_verified and checked >= min_checked:
            break
    exact = checked >= candidates
    verified = len(passed)
    # Unverified candidates are estimated to pass at the rate the checked ones did.
    total = verified if exact else verified + round((candidates - checked) * verified / max(1, checked))
    if sort == "relevance" and passed:
        passed = _bm25(passed, parsed, idfs)
    shown = passed[offset:wanted_hits]
    timings["verify_ms"] = _ms(mark)

    counted = None
    if facets:
        mark = time.perf_counter()
        weights = np.full(len(keys), verified / max(1, checked))
        weights[top[:checked]] = 0.0
        weights[passed_at] = 1.0
        counted = Facets(exact=exact)
        if len(keys):
            for kind, values in count_values(db, in_range, keys, weights, lambda b: Postings(b).keys).items():
                setattr(counted, kind, values)
            axis = day_axis(times, weights, filters.since, filters.until)
            if axis is not None:
                counted.bucket, counted.days = axis.bucket, list(zip(axis.starts, histogram(axis, times, weights)))
                if split:
                    counted.split_by = split
                    counted.split = split_by(db, in_range, split, keys, times, weights, axis,
                                             lambda b: Postings(b).keys)
        timings["facets_ms"] = _ms(mark)

    hits = [_hit(doc, score, parsed) for _article_id, doc, score in shown]
    return SearchResult(query, parsed, hits, total, exact, page, per_page, candidates, _ms(started), timings, counted)


def iter_matches(
    db: Database[Any], query: str, filters: Filters | None = None, *,
    fields: Sequence[str] = (), oldest_first: bool = False,
) -> Iterator[dict[str, Any]]:
    """Every article matching `query` and `filters`, newest first (or oldest), each verified
    like a search hit, with `fields` besides what verification reads. Streams: articles are
    read a few hundred at a time, so an export of any size holds one batch.

    SearchError for a query without any searchable word.
    """
    filters = (filters or Filters()).resolved(db)
    parsed = parse_query(query)
    found = find_candidates(db, query, parsed, filters)
    order = np.argsort(found.times, kind="stable")
    if not oldest_first:
        order = order[::-1]
    ranked = [found.ids[i].tobytes() for i in order]
    projection = {**DISPLAY_FIELDS, **{name: 1 for name in fields}}
    for _article_id, doc in _fetch_in_order(db, ranked, len(ranked), first=_FETCH_CHUNK, fields=projection,
                                             largest=5 * _FETCH_CHUNK):
        if doc is None or not filters.accepts(_aware(doc)):
            continue
        title, rest = _fields(doc)
        if parsed.matches(title + "\n" + rest):
            yield doc


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


def _fetch_in_order(
    db: Database[Any], ranked: Sequence[bytes], limit: int, *, first: int,
    fields: dict[str, int] | None = None, largest: int | None = None,
) -> Iterator[tuple[bytes, dict[str, Any] | None]]:
    """The articles of `ranked[:limit]` in rank order, by _id, `first` then twice as many
    each round (a page usually needs one round; rejections fetch more), at most `largest`
    at once; `fields` is the projection (default DISPLAY_FIELDS)."""
    start, size = 0, first
    while start < limit:
        chunk = ranked[start : min(limit, start + size)]
        found: dict[bytes, dict[str, Any]] = {}
        for part in range(0, len(chunk), _FETCH_CHUNK):
            ids = [ObjectId(k) for k in chunk[part : part + _FETCH_CHUNK]]
            found.update((d["_id"].binary, d) for d in articles_collection(db).find({"_id": {"$in": ids}}, fields or DISPLAY_FIELDS))
        for article_id in chunk:
            yield article_id, found.get(article_id)
        start += len(chunk)
        size = min(size * 2, largest) if largest else size * 2


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
