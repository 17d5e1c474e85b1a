"""The story index: recent articles' LSH band keys, records and story ids, in bounded memory.

Why one module: the band arrays, the per-article segments and the eviction bookkeeping all
speak in the same slot numbers and rely on one another (a rebuild of main drops the keys of
the slots evicted from the segments, a lookup skips keys whose slot is gone), so they live
beside the StoryIndex that keeps them in step.

Slots. Every article held gets the next slot number, in the order it was first seen (a
rebuild from Mongo adds the stored articles oldest first). The index holds at most
`max_articles`: adding one more evicts the oldest, and with it its record, its URL, its story
id and its exact-duplicate key, at once (a few dictionary pops). Articles without a signature
(too short to compare) take a slot too, for their exact key. A record is held as one bytes
object (stories.pack_held: 16-bit sample fingerprints, where the record as computed and
stored has 32-bit hashes in five objects; bench/dedup_bench.py prints the index's memory per
1,000 articles), read back for the few candidates a lookup compares; a first copy's story id
is computed from its URL when asked.

Band keys. Each of the 64 bands of two 32-bit MinHash values, as one 64-bit number, is hashed
to a 32-bit key by multiply-shift with the band's own odd multiplier (band_keys; MinHash
values are minima, so their top bits are mostly 0 and the number itself is far from
uniform), so one sorted uint32 array serves all bands, with the article's slot beside each
key (uint32): 8 bytes per band and article, where a dict entry with its two int objects takes
about 100. Two different band values meet in one key by accident with odds of about 2^-31:
at the bound's 1.3 million keys, a lookup's 128 query keys meet fewer than 0.1 such
strangers, each a candidate sharing one band, which the cap on candidates (MAX_COMPARED:
those sharing the most bands first) and the closer look set aside. Three sorted arrays, from
old to new:

- main: most of the articles. Keys are uniform (hashed: band_keys), so a table of where each
  run of equal top bits starts (about 4 keys a run) puts a query within a dozen entries: a
  lookup reads 128 table entries and 128 short runs, where a binary search of the 128 query
  keys (body and lead MinHash) in a million entries takes ~20 steps each, most of them
  cache misses;
- young: the last NEWSDESK_STORY_INDEX_MAX_ARTICLES / YOUNG_SHARE articles, searched with
  np.searchsorted, merged into main when full (main is rebuilt then, in place in buffers sized
  for the bound, without the keys of evicted articles);
- hot: the last HOT_ARTICLES articles (a new article's keys are merged in when the next lookup
  needs them), merged into young when full;

so an insert moves at most young's few megabytes, and a lookup is three searches, about as
fast as 128 dictionary probes (bench/dedup_bench.py measures both).

Evicting. An evicted article's record, URL, story id and exact key go at once; its band keys
stay until the next rebuild of main (a key found meanwhile points to an evicted slot and is
skipped): at most 1/YOUNG_SHARE of the bound's band keys linger. Per-article lists live in
segments of consecutive slots, dropped whole once all their articles are evicted.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import math
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from crawler.digests import DigestSet, url_key
from crawler.dedup.params import DEFAULT_MAX_ARTICLES, DEFAULT_THRESHOLD, NUMBERS_THRESHOLD, PARAPHRASE_WEIGHT, TITLE_WEIGHT
from crawler.dedup.stories import (
    LSH_BANDS,
    NUM_PERM,
    Comparison,
    HeldRecord,
    Probe,
    StoryRecord,
    StorySignature,
    held,
    is_stale,
    new_story_id,
    other_day,
    pack_held,
    parse_signature,
    unpack_held,
)
from crawler.store.stories import StoryMerge, merge_direction

# Generations of evicted URLs kept (StoryIndex.evicted_lately): a refresh marks one and reads
# what was stored since 5 s before the previous refresh, so the evictions of two intervals
# and the one under way cover it.
EVICTION_MARKS = 3
SEGMENTS = 8  # per-article lists: segments per bound, each dropped once all its articles are evicted
YOUNG_SHARE = 8  # the young array holds up to 1/YOUNG_SHARE of the bound before main is rebuilt
HOT_ARTICLES = 128  # articles whose keys wait in the small sorted array before a merge into young
RUN = 4  # keys per run of equal top bits in main (its start table costs 1 byte per key at most)
# Candidates of one lookup compared closely, at most: those sharing the most bands. Copies of
# a story share many of the 128 query bands, other articles a few, but the articles sharing a
# few grow in number with the index, and each costs a close look (bench/dedup_bench.py prints
# the candidates per lookup and the lookup time).
MAX_COMPARED = 32
CHUNK = 1 << 16  # entries per step of main's in-place rebuild (its temporaries: ~1 MB)
WINDOW = 24  # entries read per query key; a run of 4 on average is longer than this ~1 in 10^9
_BANDS, _ROWS = LSH_BANDS
# band_keys: an odd multiplier per band; the product's top half is the key (multiply-shift
# hashing: two different numbers of one band meet with odds of about 2^-31)
_MULTIPLIERS = np.random.default_rng(0x5D0C).integers(0, 2**64 - 1, size=_BANDS, dtype=np.uint64, endpoint=True) | np.uint64(1)
KEY = np.dtype(np.uint32)  # band keys (band_keys)
_TOP_HALF = 1 if sys.byteorder == "little" else 0  # a uint64 seen as two uint32: which is its top half
KEY_BITS = 8 * KEY.itemsize
_EMPTY_KEYS = np.zeros(0, dtype=KEY)
_EMPTY_SLOTS = np.zeros(0, dtype=np.uint32)
_OLDEST = datetime.min.replace(tzinfo=timezone.utc)
# Python objects per held article besides the record's bytes and the band arrays: the URL
# string, the url -> slot and exact-key -> URL dict entries, the packed record's bytes header,
# a copy's story id (a first copy's is computed: _OWN_ID), the segment's list pointers
# (tracemalloc; bench/dedup_bench.py prints the estimate beside the traced figure).
_OVERHEAD_PER_ARTICLE = 280


def exact_key(outlet: Any, body_hash: Any, title: Any) -> int | None:
    """The exact-duplicate key of an article: its outlet, its body's hash and its title without
    spaces (a boilerplate body under two titles is two articles), as one 64-bit number. None
    without an outlet or a body hash."""
    if not outlet or not body_hash:
        return None
    text = "\0".join((str(outlet), str(body_hash), "".join(str(title or "").split())))
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def band_keys(values: np.ndarray) -> np.ndarray:
    """The MinHash's 64 band keys (KEY, uint32): each band's two values as one 64-bit number,
    times the band's multiplier, the product's top half (module docstring)."""
    values = np.ascontiguousarray(values[: _BANDS * _ROWS], dtype="<u4")
    if _ROWS != 2:
        raise ValueError(f"band keys are pairs of values; LSH_BANDS has {_ROWS} rows")
    product = values.view("<u8") * _MULTIPLIERS  # native uint64, modulo 2^64
    return product.view(KEY)[_TOP_HALF::2].copy()


def _merge(keys: np.ndarray, slots: np.ndarray, new_keys: np.ndarray, new_slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two sorted (keys, slots) arrays in one; the new ones need not be sorted."""
    order = np.argsort(new_keys, kind="stable")
    new_keys, new_slots = new_keys[order], new_slots[order]
    if not len(keys):
        return new_keys, new_slots
    at = np.searchsorted(keys, new_keys)
    return np.insert(keys, at, new_keys), np.insert(slots, at, new_slots)


def _compact(keys: np.ndarray, slots: np.ndarray, size: int, low: int) -> int:
    """Drop the entries of evicted articles (slot < low) from keys[:size], slots[:size] in
    place, keeping the order; returns how many are left (at the front). A forward pass in
    chunks: an entry only moves towards the front, and each chunk's kept entries are copied out
    (chunk-sized temporaries) before they are written back."""
    write = 0
    for start in range(0, size, CHUNK):
        stop = min(start + CHUNK, size)
        live = slots[start:stop] >= low
        kept = int(np.count_nonzero(live))
        if kept == stop - start and write == start:  # nothing dropped yet: already in place
            write = stop
            continue
        keys[write:write + kept] = keys[start:stop][live]
        slots[write:write + kept] = slots[start:stop][live]
        write += kept
    return write


def _merge_into(keys: np.ndarray, slots: np.ndarray, size: int, new_keys: np.ndarray, new_slots: np.ndarray) -> int:
    """Merge the sorted new_keys (and their slots) into the sorted keys[:size], slots[:size] in
    place (the arrays must have room for both); returns the merged size. The result is what
    _merge gave: a new key goes before the equal keys already there, equal new keys keep their
    order.

    A backward pass in steps, from the end: old entries keys[start:stop] and the new keys not
    placed yet that go after all of keys[:start], new_keys[low:high], merged make up the
    result's positions start + low .. stop + high (everything before them is keys[:start] and
    new_keys[:low]). Those positions are at or after start, so the entries not moved yet
    (before start) are never overwritten; each step is merged into a temporary before it is
    written back. A step takes at most CHUNK old entries and CHUNK new keys (many new keys in
    one stretch of old ones: a first load, all of it new). Once every new key is placed, the
    rest is already in place."""
    high = len(new_keys)
    stop = size
    while high:
        start = max(0, stop - CHUNK)
        # new keys after keys[start - 1]: those greater (an equal new key goes before it)
        low = int(np.searchsorted(new_keys[:high], keys[start - 1], side="right")) if start else 0
        if high - low > CHUNK:  # too many: the last CHUNK of them, and the old entries after them
            low = high - CHUNK  # (those not less than new_keys[low - 1]; at least `start` ones are less)
            start += int(np.searchsorted(keys[start:stop], new_keys[low - 1]))
        at = np.searchsorted(keys[start:stop], new_keys[low:high])  # left: before equal old keys
        merged_keys = np.insert(keys[start:stop], at, new_keys[low:high])
        merged_slots = np.insert(slots[start:stop], at, new_slots[low:high])
        keys[start + low:stop + high] = merged_keys
        slots[start + low:stop + high] = merged_slots
        high, stop = low, start
    return size + len(new_keys)


def _search(keys: np.ndarray, slots: np.ndarray, query: np.ndarray) -> np.ndarray | None:
    """Slots stored under any of the query keys, by binary search (None: none)."""
    if not len(keys):
        return None
    at = np.searchsorted(keys, query)
    hit = keys.take(at, mode="clip") == query
    if not hit.any():
        return None
    low = at[hit]
    high = np.searchsorted(keys, query[hit], side="right")
    if (high - low == 1).all():
        return slots[low]
    return np.concatenate([slots[a:b] for a, b in zip(low.tolist(), high.tolist())])


class _Table:
    """Sorted band keys with their slots, and where each run of equal top bits starts: a
    query key's run is a few entries, read at once for all the query keys."""

    __slots__ = ("keys", "slots", "starts", "shift", "window", "long")

    def __init__(self, keys: np.ndarray = _EMPTY_KEYS, slots: np.ndarray = _EMPTY_SLOTS) -> None:
        self.keys, self.slots = keys, slots  # main's: views of the valid prefix of its buffers
        bits = max(1, (len(keys) // RUN).bit_length() - 1)
        self.shift = KEY.type(KEY_BITS - bits)
        runs = 2**bits
        # starts[r]: the first key whose top bits are r or more; starts[runs] = len(keys).
        # Built in chunks of runs, so a rebuild of main needs no temporaries of the table's size.
        self.starts = np.empty(runs + 1, dtype=np.uint32)
        for first in range(0, runs, CHUNK):
            bounds = np.arange(first, min(first + CHUNK, runs), dtype=KEY) << self.shift
            self.starts[first:first + len(bounds)] = np.searchsorted(keys, bounds)
        self.starts[runs] = len(keys)
        widest = max(int(np.diff(self.starts[first:first + CHUNK + 1]).max()) for first in range(0, runs, CHUNK))
        self.window = np.arange(min(widest, WINDOW), dtype=np.uint32)
        # runs longer than the window: many copies of one key (identical texts), or bad luck
        self.long = widest > WINDOW

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, query: np.ndarray) -> np.ndarray | None:
        """Slots stored under any of the query keys (None: none)."""
        if not len(self.keys):
            return None
        run = (query >> self.shift).astype(np.intp)
        first = self.starts.take(run)
        extra = None
        if self.long:  # the queries in long runs are searched whole
            long = self.starts.take(run + 1) - first > WINDOW
            if long.any():
                extra = _search(self.keys, self.slots, query[long])
        at = first[:, None] + self.window
        hit = self.keys.take(at, mode="clip") == query[:, None]  # past the run: other top bits, never equal
        if not hit.any():
            return extra
        found = self.slots.take(at[hit], mode="clip")  # a window clipped at the end: the last key, found twice
        return found if extra is None else np.concatenate((found, extra))


class _Bands:
    """Band key -> slots of the held articles (module docstring: main, young, hot)."""

    def __init__(self, young_articles: int) -> None:
        self.young_articles = max(HOT_ARTICLES, young_articles)
        # main's keys and slots live in buffers allocated once, at the first rebuild, with room
        # for the bound's keys (np.empty: a page is only resident once written), and are rebuilt
        # in place; main is a _Table over their first main_size entries.
        self.capacity = self.young_articles * YOUNG_SHARE * _BANDS
        self.main_keys, self.main_slots, self.main_size = _EMPTY_KEYS, _EMPTY_SLOTS, 0
        self.main = _Table()
        self.young, self.young_count = _Table(), 0
        self.hot_keys, self.hot_slots, self.hot_count = _EMPTY_KEYS, _EMPTY_SLOTS, 0
        self.pending: list[tuple[np.ndarray, int]] = []  # (band keys, slot) not merged yet

    def add(self, keys: np.ndarray, slot: int) -> None:
        self.pending.append((keys, slot))

    def settle(self, low: int) -> None:
        """Merge what waits: pending into hot, hot into young, young into main, as each fills."""
        if not self.pending:
            return
        new_keys = np.concatenate([keys for keys, _ in self.pending])
        new_slots = np.repeat(np.fromiter((slot for _, slot in self.pending), dtype=np.uint32, count=len(self.pending)),
                              _BANDS)
        self.hot_count += len(self.pending)
        self.pending = []
        if self.hot_count < HOT_ARTICLES:
            self.hot_keys, self.hot_slots = _merge(self.hot_keys, self.hot_slots, new_keys, new_slots)
            return
        new_keys = np.concatenate((self.hot_keys, new_keys))
        new_slots = np.concatenate((self.hot_slots, new_slots))
        self.young_count += self.hot_count
        self.hot_keys, self.hot_slots, self.hot_count = _EMPTY_KEYS, _EMPTY_SLOTS, 0
        if self.young_count >= self.young_articles:
            self._rebuild_main(low, new_keys, new_slots)
        else:
            self.young = _Table(*_merge(self.young.keys, self.young.slots, new_keys, new_slots))

    def _rebuild_main(self, low: int, new_keys: np.ndarray = _EMPTY_KEYS, new_slots: np.ndarray = _EMPTY_SLOTS) -> None:
        """Young (and new keys) into main, without the keys of evicted articles (slot < low).
        Main is rebuilt in place (_compact, then _merge_into) with chunk-sized temporaries:
        no second copy of main's ~10 MB at the bound, only young's arrays (1/YOUNG_SHARE of it)
        as an ordinary merge into young holds them."""
        young_keys, young_slots = _merge(self.young.keys, self.young.slots, new_keys, new_slots)  # new arrays
        self.young, self.young_count = _Table(), 0
        young_size = _compact(young_keys, young_slots, len(young_keys), low)
        young_keys, young_slots = young_keys[:young_size], young_slots[:young_size]
        self.main = _Table()  # its views are stale from here until the new table is built
        size = _compact(self.main_keys, self.main_slots, self.main_size, low)
        if size + young_size > len(self.main_keys):  # the first rebuild, or past the bound (max_articles raised)
            self._grow(size, size + young_size)
        self.main_size = _merge_into(self.main_keys, self.main_slots, size, young_keys, young_slots)
        self.main = _Table(self.main_keys[:self.main_size], self.main_slots[:self.main_size])

    def _grow(self, size: int, needed: int) -> None:
        """New buffers for main with room for `needed` entries (the bound's at first, else
        twice as much as before), its first `size` entries copied over."""
        capacity = max(needed, self.capacity if not len(self.main_keys) else 2 * len(self.main_keys))
        keys, slots = np.empty(capacity, dtype=KEY), np.empty(capacity, dtype=np.uint32)
        keys[:size], slots[:size] = self.main_keys[:size], self.main_slots[:size]
        self.main_keys, self.main_slots = keys, slots

    def lookup(self, query: np.ndarray, low: int) -> set[int]:
        return set(self.hits(query, low)[0].tolist())

    def hits(self, query: np.ndarray, low: int) -> tuple[np.ndarray, np.ndarray]:
        """(slots, how many of the query keys each one shares), held slots only, by slot."""
        self.settle(low)
        found = [slots for slots in (self.main.find(query), self.young.find(query),
                                     _search(self.hot_keys, self.hot_slots, query)) if slots is not None]
        if not found:
            return _EMPTY_SLOTS, _EMPTY_SLOTS
        slots, counts = np.unique(np.concatenate(found) if len(found) > 1 else found[0], return_counts=True)
        if len(slots) and slots[0] < low:
            held = slots >= low
            slots, counts = slots[held], counts[held]
        return slots, counts

    def flush(self, low: int) -> None:
        """Everything into main (after a bulk load: the bench's memory figure)."""
        self.settle(low)
        self._rebuild_main(low, self.hot_keys, self.hot_slots)
        self.hot_keys, self.hot_slots, self.hot_count = _EMPTY_KEYS, _EMPTY_SLOTS, 0

    def nbytes(self) -> int:
        tables = sum(t.keys.nbytes + t.slots.nbytes + t.starts.nbytes for t in (self.main, self.young))
        return tables + self.hot_keys.nbytes + self.hot_slots.nbytes + len(self.pending) * _BANDS * KEY.itemsize


# A story id that is new_story_id(the article's URL), as a held first copy's is: computed when
# asked instead of held (a string of ~70 bytes per article)
_OWN_ID = object()


class _Segment:
    """Consecutive slots base .. base + capacity - 1: per article its URL, record (pack_held's
    bytes), story id (_OWN_ID: new_story_id of its URL) and exact key (None once evicted)."""

    __slots__ = ("base", "capacity", "urls", "records", "story_ids", "exact")

    def __init__(self, base: int, capacity: int) -> None:
        self.base, self.capacity = base, capacity
        self.urls: list[str | None] = []
        self.records: list[bytes | None] = []
        self.story_ids: list[object] = []
        self.exact: list[int | None] = []

    def story_id(self, off: int) -> str | None:
        story = self.story_ids[off]
        if story is _OWN_ID:
            return new_story_id(self.urls[off])
        return story  # type: ignore[return-value]

    def set_story_id(self, off: int, story_id: str | None) -> None:
        url = self.urls[off]
        own = story_id is not None and url is not None and story_id == new_story_id(url)
        self.story_ids[off] = _OWN_ID if own else story_id

    @property
    def full(self) -> bool:
        return len(self.urls) >= self.capacity


@dataclass
class Match:
    story_id: str
    similarity: float | None  # containment in the closest earlier copy (sampled); None: first copy
    closest_url: str | None = None


class _StoryIds(Mapping[str, str]):
    """canonical URL -> story id of the held articles that have one (a view: evicted
    articles are gone from it with their slot)."""

    def __init__(self, index: StoryIndex) -> None:
        self._index = index

    def __getitem__(self, url: str) -> str:
        story = self._index.story_of(url)
        if story is None:
            raise KeyError(url)
        return story

    def __contains__(self, url: object) -> bool:
        return isinstance(url, str) and self._index.story_of(url) is not None

    def __iter__(self) -> Iterator[str]:
        for segment in self._index.segments:
            for url, story in zip(segment.urls, segment.story_ids):
                if url is not None and story is not None:  # _OWN_ID too
                    yield url

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _MinHashValues:
    """A stored signature's MinHash values where a lookup expects a MinHash."""

    __slots__ = ("hashvalues",)

    def __init__(self, values: np.ndarray) -> None:
        self.hashvalues = values


class _Stored:
    """A stored signature as a lookup takes it: the body's MinHash and the record (the lead's
    MinHash is not stored, so a stored copy is found by its body's bands alone)."""

    __slots__ = ("minhash", "lead", "record")

    def __init__(self, values: np.ndarray, record: StoryRecord) -> None:
        self.minhash = _MinHashValues(values)
        self.lead = None
        self.record = record


class StoryIndex:
    """Records of recent articles, their LSH band keys, story ids and exact keys, at most
    `max_articles` of them (the oldest first seen are evicted first)."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, num_perm: int = NUM_PERM,
                 numbers_threshold: float = NUMBERS_THRESHOLD, title_weight: float = TITLE_WEIGHT,
                 paraphrase_weight: float = PARAPHRASE_WEIGHT, max_articles: int = DEFAULT_MAX_ARTICLES) -> None:
        if max_articles < 1:
            raise ValueError(f"max_articles must be at least 1, got {max_articles}")
        self.threshold = threshold
        self.numbers_threshold = numbers_threshold
        self.title_weight = title_weight
        self.paraphrase_weight = paraphrase_weight
        self.num_perm = num_perm
        self.max_articles = max_articles
        self.segment_size = max(1, math.ceil(max_articles / SEGMENTS))
        self.segments: list[_Segment] = []
        self.bands = _Bands(math.ceil(max_articles / YOUNG_SHARE))
        self.low = 0  # the oldest held slot
        self.next_slot = 0
        self.slots: dict[str, int] = {}  # canonical URL -> slot, every held article
        self.exact: dict[int, str] = {}  # exact_key() -> canonical URL of the first article with it
        self.stories: Mapping[str, str] = _StoryIds(self)
        self.evicted = 0
        # URLs evicted (8-byte digests), one generation per mark_evictions(), the last
        # EVICTION_MARKS kept: a refresh must not read back this process's own articles that
        # the bound pushed out (crawler/crawl/story_index.py)
        self._evictions: deque[DigestSet] = deque([DigestSet()], maxlen=EVICTION_MARKS)
        self.record_bytes = 0
        self.skipped = 0  # stored signatures that could not be read
        self.stale = 0  # stored signatures of an earlier SIGNATURE_VERSION (not comparable)
        self.compared = 0  # candidates looked at closely, over all lookups
        self.capped = 0  # lookups that had more than MAX_COMPARED candidates
        self.renamed: dict[str, str] = {}  # story id -> the id it was merged into (reconcile, rename)

    def __len__(self) -> int:
        return self.next_slot - self.low

    # -- slots ------------------------------------------------------------------------------

    def _locate(self, slot: int) -> tuple[_Segment, int]:
        first = self.segments[0]
        segment = self.segments[(slot - first.base) // self.segment_size]
        return segment, slot - segment.base

    def story_of(self, url: str) -> str | None:
        """The story id of a held article, after every merge the index knows of."""
        slot = self.slots.get(url)
        if slot is None:
            return None
        segment, off = self._locate(slot)
        story = segment.story_id(off)
        return None if story is None else self.resolve(story)

    # -- merges -----------------------------------------------------------------------------

    def resolve(self, story_id: str) -> str:
        """The id `story_id` goes by now (merges only ever go to smaller ids, so this ends)."""
        while story_id in self.renamed:
            story_id = self.renamed[story_id]
        return story_id

    def rename(self, gone: str, into: str) -> tuple[str, str] | None:
        """Two story ids are one story (a merge found here or recorded by another process):
        the held copies of both go by one id from now on. Returns (gone, into) as applied,
        in crawler.store.stories' fixed direction; None when they already were one."""
        a, b = self.resolve(gone), self.resolve(into)
        if a == b:
            return None
        gone, into = merge_direction(a, b)
        self.renamed[gone] = into
        return gone, into

    def reconcile(self, rows: Iterable[dict[str, Any]]) -> list[StoryMerge]:
        """Add stored articles that other processes assigned (rows as load() takes them),
        each first compared with what the index holds, oldest first seen first. A copy
        found under another story id means both ids are one story: the index renames one
        into the other and the merge is returned, for the caller to record in the database.

        This is how processes that crawl at the same time agree: each one reconciles the
        articles it reads back from the others at its refresh and at its end, so of any two
        copies stored by two processes, the one that ends later compares them."""
        merges: list[StoryMerge] = []
        entries = []
        for row in rows:
            url = row.get("canonical_url")
            if not url or self.holds(url):
                continue
            seen = row.get("first_seen")
            if isinstance(seen, datetime) and seen.tzinfo is None:
                seen = seen.replace(tzinfo=timezone.utc)
            entries.append((seen if isinstance(seen, datetime) else _OLDEST, len(entries), row))
        for _, _, row in sorted(entries, key=lambda e: e[:2]):
            url, story = row["canonical_url"], row.get("story_id")
            parsed = self._parsed(row) if story else None
            key = exact_key(row.get("outlet"), row.get("body_hash"), row.get("title"))
            if parsed is None and key is None:
                continue
            if parsed is not None:
                found = self.find(_Stored(parsed[0], parsed[1]))
                if found is not None:
                    closest, comparison = found
                    other = self.story_of(closest)
                    applied = self.rename(story, other) if other is not None else None
                    if applied is not None:
                        merges.append(StoryMerge(applied[0], applied[1], "copies stored by different crawls",
                                                 round(comparison.containment, 4), url, closest))
            self.add(url, parsed, story if parsed is not None else None, key)
        return merges

    def _parsed(self, row: dict[str, Any]) -> tuple[np.ndarray, StoryRecord] | None:
        """A stored row's (MinHash values, record), None when it has none or it is unreadable."""
        data = row.get("minhash")
        if not isinstance(data, (bytes, bytearray)):
            if data:
                self.skipped += 1
            return None
        try:
            return parse_signature(bytes(data), self.num_perm)
        except ValueError:  # a damaged signature costs one article its story, not the crawl
            if is_stale(data):
                self.stale += 1
            else:
                self.skipped += 1
            return None

    def holds(self, url: str) -> bool:
        return url in self.slots

    def mark_evictions(self) -> None:
        """Start a new generation of evicted URLs (the oldest of EVICTION_MARKS is forgotten)."""
        self._evictions.append(DigestSet())

    def evicted_lately(self, url: str) -> bool:
        """Evicted in one of the last EVICTION_MARKS generations (mark_evictions)."""
        key = url_key(url)
        return any(key in generation for generation in self._evictions)

    def _evict_oldest(self) -> None:
        segment, off = self._locate(self.low)
        url = segment.urls[off]
        if url is not None:
            self._evictions[-1].add(url_key(url))
            if self.slots.get(url) == self.low:
                del self.slots[url]
            key = segment.exact[off]
            if key is not None and self.exact.get(key) == url:
                del self.exact[key]
        record = segment.records[off]
        if record is not None:
            self.record_bytes -= len(record)
        segment.urls[off] = segment.records[off] = segment.story_ids[off] = segment.exact[off] = None
        self.low += 1
        self.evicted += 1
        if off + 1 == segment.capacity:  # the whole segment is gone: its band arrays go too
            self.segments.pop(0)

    def add(self, canonical_url: str, sig: StorySignature | tuple[Any, StoryRecord] | None, story_id: str | None,
            exact: int | None = None) -> None:
        """Hold an article: its signature (a StorySignature, or (MinHash or its values, record)
        as stored; None for an article only held for its exact key), its story id and its
        exact key. An article already held keeps its slot (its story id and exact key are
        updated)."""
        held = self.slots.get(canonical_url)
        if held is not None:
            segment, off = self._locate(held)
            if story_id is not None:
                segment.set_story_id(off, story_id)
            if exact is not None and exact != segment.exact[off]:
                old = segment.exact[off]
                if old is not None and self.exact.get(old) == canonical_url:
                    del self.exact[old]
                segment.exact[off] = exact
                self.exact.setdefault(exact, canonical_url)
            return
        while len(self) >= self.max_articles:
            self._evict_oldest()
        if not self.segments or self.segments[-1].full:
            self.segments.append(_Segment(self.next_slot, self.segment_size))
        segment = self.segments[-1]
        off = len(segment.urls)
        packed = None
        if sig is not None:
            minhash, record = (sig.minhash, sig.record) if isinstance(sig, StorySignature) else sig
            values = getattr(minhash, "hashvalues", minhash)  # a MinHash, or its values
            if len(values) != self.num_perm:
                raise ValueError(f"expecting a MinHash with {self.num_perm} permutations, got {len(values)}")
            self.bands.add(band_keys(values), self.next_slot)
            packed = pack_held(record)
            self.record_bytes += len(packed)
        segment.urls.append(canonical_url)
        segment.records.append(packed)
        segment.story_ids.append(None)
        if packed is not None:
            segment.set_story_id(off, story_id)
        segment.exact.append(exact)
        self.slots[canonical_url] = self.next_slot
        if exact is not None:
            self.exact.setdefault(exact, canonical_url)
        self.next_slot += 1

    # -- loading ----------------------------------------------------------------------------

    def load(self, rows: Iterable[dict[str, Any]]) -> int:
        """Add stored articles ({canonical_url, minhash (signature bytes), story_id, and for
        the exact key outlet, body_hash, title; first_seen orders them}), the newest
        `max_articles` of them, oldest first; returns how many signed ones it added."""
        newest: list[tuple[datetime, int, str, Any, str | None, int | None]] = []
        seq = itertools.count()
        for row in rows:
            url = row.get("canonical_url")
            if not url:
                continue
            parsed, story = None, row.get("story_id")
            data = row.get("minhash")
            if isinstance(data, (bytes, bytearray)) and story:
                try:
                    parsed = parse_signature(bytes(data), self.num_perm)
                except ValueError:  # a damaged signature costs one article its story, not the crawl
                    if is_stale(data):
                        self.stale += 1
                    else:
                        self.skipped += 1
            elif data:
                self.skipped += 1
            key = exact_key(row.get("outlet"), row.get("body_hash"), row.get("title"))
            if parsed is None and key is None:
                continue
            seen = row.get("first_seen")
            if isinstance(seen, datetime) and seen.tzinfo is None:
                seen = seen.replace(tzinfo=timezone.utc)  # pymongo returns naive UTC unless told otherwise
            entry = (seen if isinstance(seen, datetime) else _OLDEST, next(seq), url, parsed, story, key)
            if len(newest) < self.max_articles:
                heapq.heappush(newest, entry)
            elif entry[:2] > newest[0][:2]:
                heapq.heapreplace(newest, entry)
        count = 0
        for _, _, url, parsed, story, key in sorted(newest, key=lambda e: e[:2]):
            self.add(url, parsed, story if parsed is not None else None, key)
            count += parsed is not None
        return count

    # -- lookups ----------------------------------------------------------------------------

    def same_story(self, a: StoryRecord | Probe, b: StoryRecord) -> Comparison | None:
        """The comparison when a and b are one story, else None. The cheap tests go first,
        and the sentence-level paraphrase share only when it could change the answer. A
        record is compared with a held one in the index's form (held())."""
        probe = a if isinstance(a, Probe) else Probe(held(a) if isinstance(b, HeldRecord) else a)
        if other_day(probe.record, b):
            return None
        numbers = probe.numbers_agree(b)
        if numbers < self.numbers_threshold:
            return None
        containment, samples, hits = probe.containment(b)
        title = probe.title(b)
        without = containment + self.title_weight * title
        if without >= self.threshold:
            return Comparison(containment, title, 0.0, numbers, False)
        if without + self.paraphrase_weight < self.threshold:  # not even a full paraphrase would do
            return None
        found = Comparison(containment, title, probe.paraphrase(b, samples, hits), numbers, False)
        return found if found.score(self.title_weight, self.paraphrase_weight) >= self.threshold else None

    def _candidates(self, sig: StorySignature | _Stored) -> Iterator[tuple[int, _Segment, int]]:
        """The held articles sharing a band with the body's or the lead's MinHash, oldest
        first; when there are more than MAX_COMPARED, the MAX_COMPARED sharing the most bands
        (the newest among equals). Copies of a story share many bands, chance neighbours one
        or two (module docstring), so the cap bounds a lookup's cost as the index fills
        without dropping copies."""
        slots, shared = self._hits(sig)
        if len(slots) > MAX_COMPARED:
            self.capped += 1
            slots = np.sort(slots[np.lexsort((-slots.astype(np.int64), -shared))[:MAX_COMPARED]])
        self.compared += len(slots)
        for slot in slots.tolist():
            segment, off = self._locate(slot)
            if segment.records[off] is not None:  # held for its exact key only: no record
                yield slot, segment, off

    def _hits(self, sig: StorySignature | _Stored) -> tuple[np.ndarray, np.ndarray]:
        query = band_keys(sig.minhash.hashvalues)
        if sig.lead is not None:
            query = np.concatenate((query, band_keys(sig.lead.hashvalues)))
        return self.bands.hits(query, self.low)

    def candidates(self, sig: StorySignature) -> set[int]:
        """Slots of the held articles the LSH returns for the body's and the lead's MinHash
        (all of them: a lookup compares at most MAX_COMPARED)."""
        found = set()
        for slot in self._hits(sig)[0].tolist():
            segment, off = self._locate(slot)
            if segment.records[off] is not None:
                found.add(slot)
        return found

    def find(self, sig: StorySignature | _Stored) -> tuple[str, Comparison] | None:
        """The closest held copy of this story (URL, comparison), if any."""
        best: tuple[str, Comparison] | None = None
        best_score = 0.0
        probe: Probe | None = None
        for slot, segment, off in self._candidates(sig):  # oldest first: a tie goes to the earliest copy
            probe = probe or Probe(held(sig.record))
            found = self.same_story(probe, unpack_held(segment.records[off]))
            if found is not None:
                score = found.score(self.title_weight, self.paraphrase_weight)
                if score > best_score:
                    best, best_score = (segment.urls[off], found), score
        return best

    def assign(self, canonical_url: str, sig: StorySignature, exact: int | None = None) -> Match:
        """The story this article belongs to (adding it to the index)."""
        known = self.story_of(canonical_url)
        if known is not None:  # a recrawl keeps its story
            return Match(known, None)
        found = self.find(sig)
        if found is not None:
            url, comparison = found
            match = Match(self.story_of(url) or new_story_id(url), round(comparison.containment, 4), url)
        else:
            match = Match(new_story_id(canonical_url), None)
        self.add(canonical_url, sig, match.story_id, exact)
        return match

    # -- size -------------------------------------------------------------------------------

    def memory_bytes(self) -> int:
        """An estimate of what the index holds (band arrays, records, per-article objects)."""
        lists = sum(4 * 8 * segment.capacity for segment in self.segments)
        evictions = sum(generation.nbytes() for generation in self._evictions)
        return self.bands.nbytes() + lists + evictions + self.record_bytes + len(self) * _OVERHEAD_PER_ARTICLE

    def size_stats(self) -> dict[str, float]:
        return {"articles": len(self), "evicted": self.evicted, "mb": round(self.memory_bytes() / 2**20, 1)}

