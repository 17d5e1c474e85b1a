"""Facet counts of a search's matching articles: per outlet, region, section and Korea-time day.

The engine knows its candidates as arrays (64-bit keys and published times, from the
postings) and, for each, a weight: 1 for a candidate verified as a match, 0 for one that
failed, and the verified share for the ones not checked (the same estimate as the result's
total). A facet value's count is the sum of the weights of the candidates in its filter
term's postings (`@o:`, `@r:`, `@s:` terms, crawler.text.terms.filter_term), so counts need
no article fetched and sum to the total.

Filter postings are read per segment and kept in a bounded in-process cache: segments are
never edited (a merge writes a new one), so a cached posting list stays true for as long as
its segment lives. A long-running dashboard reads each segment's filter postings once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from crawler.search.index import SearchIndex
from crawler.store import Database
from crawler.text.dates import KST
from crawler.text.terms import FILTER, filter_term

KINDS = {"outlet": "o", "region": "r", "section": "s"}
CACHE_BYTES = 64 * 1024 * 1024  # filter postings kept between searches, as key arrays
MAX_DAYS = 3660  # a day histogram spans at most ten years; wider ranges are counted by month


@dataclass
class Facets:
    """Counts of matching articles per value, largest first, and per Korea-time day.

    `exact` is False when some candidates were not verified (counts are then estimates, the
    same way as the result's total). `days` covers every day from the first match to the
    last (zeros included), or every month when that is more than MAX_DAYS days, as
    `bucket` says ("day" or "month"). With `split_by`, `split` holds each value's counts over
    the same buckets (a trend per region or outlet).
    """

    outlet: list[tuple[str, int]] = field(default_factory=list)
    region: list[tuple[str, int]] = field(default_factory=list)
    section: list[tuple[str, int]] = field(default_factory=list)
    days: list[tuple[date, int]] = field(default_factory=list)
    bucket: str = "day"
    exact: bool = True
    split_by: str | None = None  # with a split: per value of this facet, counts per bucket of `days`
    split: dict[str, list[int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "exact": self.exact, "bucket": self.bucket,
            **{kind: [{"value": v, "articles": n} for v, n in getattr(self, kind)] for kind in KINDS},
            "days": [{"day": d.isoformat(), "articles": n} for d, n in self.days],
            **({"split_by": self.split_by, "split": self.split} if self.split_by else {}),
        }


class _Cache:
    """(segment id, term) -> sorted unique keys, least recently used dropped past CACHE_BYTES."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self.items: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> np.ndarray | None:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key: tuple[str, str], keys: np.ndarray) -> None:
        with self.lock:
            if key in self.items:
                return
            self.items[key] = keys
            self.used += keys.nbytes
            while self.used > self.budget and len(self.items) > 1:
                _old, dropped = self.items.popitem(last=False)
                self.used -= dropped.nbytes


_CACHE = _Cache(CACHE_BYTES)


def filter_postings(
    db: Database[Any], segments: Sequence[Mapping[str, Any]], kind: str,
    to_keys: Callable[[bytes], np.ndarray],
) -> dict[str, np.ndarray]:
    """term -> keys of its articles, for every filter term of `kind` (o/r/s) in `segments`.

    A segment written before segments listed their filter terms (format 1) is asked for the
    terms of the values stored in the articles collection instead.
    """
    prefix = f"{FILTER}{kind}:"
    index = SearchIndex(db)
    listed_everywhere = all("filters" in s for s in segments)
    fallback = [] if listed_everywhere else _stored_terms(db, kind)
    out: dict[str, list[np.ndarray]] = {}
    for segment in segments:
        sid = str(segment["_id"])
        terms = [t for t in segment["filters"] if t.startswith(prefix)] if "filters" in segment else fallback
        missing = [t for t in terms if _CACHE.get((sid, t)) is None]
        if missing:
            read = index.read(missing, [segment])
            for term in missing:
                _CACHE.put((sid, term), np.unique(to_keys(read.get(term, b""))))
        for term in terms:
            keys = _CACHE.get((sid, term))
            if keys is None:  # dropped by the budget in this very loop: read it again, uncached
                keys = np.unique(to_keys(index.read([term], [segment]).get(term, b"")))
            if len(keys):
                out.setdefault(term, []).append(keys)
    return {t: np.unique(np.concatenate(parts)) for t, parts in out.items()}


@dataclass
class Labels:
    """Every article of a set of segments with its filter terms of one kind, for counting by
    bincount: `keys` (sorted, unique), and one (key index, term index) pair per posting."""

    terms: list[str]
    keys: np.ndarray
    key_at: np.ndarray
    term_at: np.ndarray

    def weigh(self, keys: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Each pair's weight: the weight of its article among the candidates `keys`, else 0."""
        full = np.zeros(len(self.keys))
        if len(keys) and len(self.keys):
            at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            hit = self.keys[at] == keys
            full[at[hit]] = weights[hit]
        return full[self.key_at]


_LABELS: OrderedDict[tuple[str, str, tuple[str, ...]], Labels] = OrderedDict()
_LABELS_KEPT = 12  # kinds x segment sets; a merge or a new segment makes a new set
_labels_lock = threading.Lock()


def labels(db: Database[Any], segments: Sequence[Mapping[str, Any]], kind: str,
           to_keys: Callable[[bytes], np.ndarray]) -> Labels:
    """The Labels of filter kind `kind` (o/r/s) over `segments`, built once per segment set."""
    cache_key = (db.name, kind, tuple(sorted(str(s["_id"]) for s in segments)))
    with _labels_lock:
        found = _LABELS.get(cache_key)
        if found is not None:
            _LABELS.move_to_end(cache_key)
            return found
    postings = filter_postings(db, segments, kind, to_keys)
    terms = list(postings)
    every = [postings[t] for t in terms]
    keys = np.unique(np.concatenate(every)) if every else np.zeros(0, dtype=np.uint64)
    key_at = np.concatenate([np.searchsorted(keys, k) for k in every]) if every else np.zeros(0, dtype=np.int64)
    term_at = np.concatenate([np.full(len(k), i, dtype=np.int64) for i, k in enumerate(every)]) if every else np.zeros(0, dtype=np.int64)
    built = Labels(terms, keys, key_at, term_at)
    with _labels_lock:
        _LABELS[cache_key] = built
        while len(_LABELS) > _LABELS_KEPT:
            _LABELS.popitem(last=False)
    return built


def _stored_terms(db: Database[Any], kind: str) -> list[str]:
    name = {"o": "outlet", "r": "region", "s": "sections"}[kind]
    return sorted({filter_term(kind, str(v)) for v in db.articles.distinct(name) if v})


def value_names(db: Database[Any], kind: str, terms: Sequence[str]) -> dict[str, str]:
    """term -> the value to show: the term's text, or for a hashed term (a value with a dot,
    a dollar sign or over 40 letters) the stored value it stands for."""
    prefix = f"{FILTER}{kind}:"
    names = {t: t[len(prefix):] for t in terms if not t[len(prefix):].startswith("#")}
    if len(names) < len(terms):
        field_name = {"o": "outlet", "r": "region", "s": "sections"}[kind]
        for value in db.articles.distinct(field_name):
            if value and filter_term(kind, str(value)) in terms:
                names[filter_term(kind, str(value))] = str(value)
    return names


def count_values(
    db: Database[Any], segments: Sequence[Mapping[str, Any]], keys: np.ndarray, weights: np.ndarray,
    to_keys: Callable[[bytes], np.ndarray],
) -> dict[str, list[tuple[str, int]]]:
    """Per facet kind, (value, weighted count) of the candidates `keys` (sorted, unique), largest
    first; values counting zero are left out."""
    out: dict[str, list[tuple[str, int]]] = {}
    for kind, letter in KINDS.items():
        found = labels(db, segments, letter, to_keys)
        sums = np.bincount(found.term_at, weights=found.weigh(keys, weights), minlength=len(found.terms))
        names = value_names(db, letter, found.terms)
        counts: dict[str, float] = {}
        for term, weight in zip(found.terms, sums):
            if weight >= 0.5 and term in names:
                counts[names[term]] = counts.get(names[term], 0.0) + float(weight)
        out[kind] = sorted(((v, round(n)) for v, n in counts.items()), key=lambda r: (-r[1], r[0]))
    return out


@dataclass
class DayAxis:
    """Buckets of Korea-time days (or months) from `first` to `last` (days since 1970-01-01)."""

    bucket: str
    first: int
    last: int
    starts: list[date]


def day_axis(times: np.ndarray, weights: np.ndarray, since: datetime | None = None,
             until: datetime | None = None) -> DayAxis | None:
    """The buckets spanning the weighted times (or `since`..`until`); None when nothing to span."""
    days = _days(times[weights > 0])
    if not len(days) and not (since and until):
        return None
    epoch = date(1970, 1, 1)
    first = int(days.min()) if len(days) else 0
    last = int(days.max()) if len(days) else 0
    if since:
        first = (since.astimezone(KST).date() - epoch).days
    if until:
        last = ((until - timedelta(microseconds=1)).astimezone(KST).date() - epoch).days
    if last < first:
        return None
    if last - first + 1 <= MAX_DAYS:
        return DayAxis("day", first, last, [epoch + timedelta(days=first + i) for i in range(last - first + 1)])
    base, end = _month(first), _month(last)
    return DayAxis("month", first, last, [date(1970 + m // 12, m % 12 + 1, 1) for m in range(base, end + 1)])


def histogram(axis: DayAxis, times: np.ndarray, weights: np.ndarray) -> list[int]:
    """Weighted counts of `times` in each bucket of `axis` (times outside it are left out)."""
    live = weights > 0
    days = _days(times[live])
    inside = (days >= axis.first) & (days <= axis.last)
    days, kept = days[inside], weights[live][inside]
    if axis.bucket == "day":
        slots = days - axis.first
    else:
        slots = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) - _month(axis.first)
    counts = np.bincount(slots.astype(np.int64), weights=kept, minlength=len(axis.starts))
    return [round(float(n)) for n in counts[: len(axis.starts)]]


def _days(times: np.ndarray) -> np.ndarray:
    """Korea-time day numbers (days since 1970-01-01) of Unix seconds: Korea time has no
    daylight saving, so a fixed nine hours."""
    return (times.astype(np.int64) + 9 * 3600) // 86400


def _month(day_number: int) -> int:
    """Months since 1970-01 of a day counted from 1970-01-01."""
    return int(np.datetime64(day_number, "D").astype("datetime64[M]").astype(np.int64))


def split_by(
    db: Database[Any], segments: Sequence[Mapping[str, Any]], kind: str, keys: np.ndarray, times: np.ndarray,
    weights: np.ndarray, axis: DayAxis, to_keys: Callable[[bytes], np.ndarray],
) -> dict[str, list[int]]:
    """Per value of facet `kind` (outlet, region, section): its counts in each bucket of `axis`."""
    found = labels(db, segments, KINDS[kind], to_keys)
    names = value_names(db, KINDS[kind], found.terms)
    slots = np.full(len(keys), -1, dtype=np.int64)
    days = _days(times)
    inside = (days >= axis.first) & (days <= axis.last) & (weights > 0)
    if axis.bucket == "day":
        slots[inside] = days[inside] - axis.first
    else:
        slots[inside] = days[inside].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) - _month(axis.first)
    width = len(axis.starts)
    pair_weight = found.weigh(keys, weights)
    pair_slot = found.weigh(keys, slots.astype(float) + 1).astype(np.int64) - 1  # -1: not a candidate
    live = (pair_weight > 0) & (pair_slot >= 0)
    grid = np.bincount(found.term_at[live] * width + pair_slot[live], weights=pair_weight[live],
                       minlength=len(found.terms) * width).reshape(len(found.terms), width)
    out: dict[str, list[int]] = {}
    for i, term in enumerate(found.terms):
        if term in names and float(grid[i].sum()) >= 0.5:
            row = [round(float(n)) for n in grid[i]]
            previous = out.get(names[term])
            out[names[term]] = [a + b for a, b in zip(previous, row)] if previous else row
    return dict(sorted(out.items(), key=lambda item: (-sum(item[1]), item[0])))
