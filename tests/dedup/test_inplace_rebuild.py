"""The story index rebuilds its main band array in place (crawler.dedup.index: _compact, then
_merge_into, over buffers allocated once): the arrays must be exactly those the previous
rebuild gave (filter by slot >= low with a copy, then _merge's argsort + np.insert), for
duplicate keys, evictions of any subset and chunk boundaries anywhere, over many cycles."""

from __future__ import annotations

import numpy as np
import pytest

from crawler.dedup import index as ix
from crawler.dedup.index import _BANDS, _Bands, _compact, _merge, _merge_into, _search, _Table


def stable_reference(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The simplest statement of a merge: the parts (newest first) concatenated and stably
    sorted by key (equal keys: newer part first, each part in its order)."""
    keys = np.concatenate([k for k, _ in parts])
    slots = np.concatenate([s for _, s in parts])
    order = np.argsort(keys, kind="stable")
    return keys[order], slots[order]


class OldBands:
    """The band arrays as they were before the in-place rebuild (copies at every step): the
    reference the new _Bands must agree with, array for array."""

    def __init__(self, young_articles: int) -> None:
        self.young_articles = max(ix.HOT_ARTICLES, young_articles)
        self.main = (ix._EMPTY_KEYS, ix._EMPTY_SLOTS)
        self.young, self.young_count = (ix._EMPTY_KEYS, ix._EMPTY_SLOTS), 0
        self.hot_keys, self.hot_slots, self.hot_count = ix._EMPTY_KEYS, ix._EMPTY_SLOTS, 0
        self.pending: list[tuple[np.ndarray, int]] = []

    def settle(self, low: int) -> None:
        if not self.pending:
            return
        new_keys = np.concatenate([keys for keys, _ in self.pending])
        new_slots = np.repeat(np.array([slot for _, slot in self.pending], dtype=np.uint32), _BANDS)
        self.hot_count += len(self.pending)
        self.pending = []
        if self.hot_count < ix.HOT_ARTICLES:
            self.hot_keys, self.hot_slots = _merge(self.hot_keys, self.hot_slots, new_keys, new_slots)
            return
        new_keys = np.concatenate((self.hot_keys, new_keys))
        new_slots = np.concatenate((self.hot_slots, new_slots))
        self.young_count += self.hot_count
        self.hot_keys, self.hot_slots, self.hot_count = ix._EMPTY_KEYS, ix._EMPTY_SLOTS, 0
        if self.young_count >= self.young_articles:
            self.rebuild(low, new_keys, new_slots)
        else:
            self.young = _merge(*self.young, new_keys, new_slots)

    def rebuild(self, low: int, new_keys: np.ndarray, new_slots: np.ndarray) -> None:
        keys, slots = self.main
        live = slots >= low
        keys, slots = keys[live], slots[live]
        young_keys, young_slots = _merge(*self.young, new_keys, new_slots)
        self.young, self.young_count = (ix._EMPTY_KEYS, ix._EMPTY_SLOTS), 0
        young = young_slots >= low
        self.main = _merge(keys, slots, young_keys[young], young_slots[young])

    def flush(self, low: int) -> None:
        self.settle(low)
        self.rebuild(low, self.hot_keys, self.hot_slots)
        self.hot_keys, self.hot_slots, self.hot_count = ix._EMPTY_KEYS, ix._EMPTY_SLOTS, 0


def old_starts(keys: np.ndarray) -> np.ndarray:
    bits = max(1, (len(keys) // ix.RUN).bit_length() - 1)
    bounds = np.arange(2**bits, dtype=ix.KEY) << ix.KEY.type(ix.KEY_BITS - bits)
    return np.append(np.searchsorted(keys, bounds), len(keys)).astype(np.uint32)


def random_keys(rng: np.random.Generator, n: int, pool: int) -> np.ndarray:
    """n keys, from a small pool (many duplicates) or over the whole range."""
    if pool:
        return rng.choice(rng.integers(0, 2**ix.KEY_BITS, size=pool, dtype=ix.KEY), size=n)
    return rng.integers(0, 2**ix.KEY_BITS, size=n, dtype=ix.KEY)


@pytest.mark.parametrize("chunk", [1, 3, 16, 1 << 16])
@pytest.mark.parametrize("seed", range(40))
def test_compact_then_merge_into_gives_the_old_filter_and_merge(monkeypatch, chunk: int, seed: int) -> None:
    monkeypatch.setattr(ix, "CHUNK", chunk)
    rng = np.random.default_rng(seed)
    pool = int(rng.choice([0, 1, 3, 50]))
    size, new = int(rng.integers(0, 120)), int(rng.integers(0, 40))
    keys = np.sort(random_keys(rng, size, pool))
    slots = rng.integers(0, 1000, size=size).astype(np.uint32)  # evicted ones anywhere in key order
    new_keys, new_slots = random_keys(rng, new, pool), rng.integers(0, 1000, size=new).astype(np.uint32)
    low = int(rng.choice([0, 1000, int(rng.integers(0, 1000))]))  # none, all, or some evicted
    spare = int(rng.integers(0, 20))

    live = slots >= low
    expect = _merge(keys[live], slots[live], *_merge(ix._EMPTY_KEYS, ix._EMPTY_SLOTS, new_keys, new_slots))
    sorted_new = _merge(ix._EMPTY_KEYS, ix._EMPTY_SLOTS, new_keys, new_slots)

    buf_keys = np.full(size + new + spare, 7, dtype=ix.KEY)  # junk past the valid prefix
    buf_slots = np.full(size + new + spare, 7, dtype=np.uint32)
    buf_keys[:size], buf_slots[:size] = keys, slots
    kept = _compact(buf_keys, buf_slots, size, low)
    assert kept == int(live.sum())
    assert buf_keys[:kept].tolist() == keys[live].tolist() and buf_slots[:kept].tolist() == slots[live].tolist()
    total = _merge_into(buf_keys, buf_slots, kept, *sorted_new)
    assert total == kept + new
    assert buf_keys[:total].tolist() == expect[0].tolist()
    assert buf_slots[:total].tolist() == expect[1].tolist()
    end = max(total, size)  # between total and size: what compaction left behind
    assert (buf_keys[end:] == 7).all() and (buf_slots[end:] == 7).all()  # nothing written past the end
    reference = stable_reference([(new_keys, new_slots), (keys[live], slots[live])])
    assert buf_keys[:total].tolist() == reference[0].tolist() and buf_slots[:total].tolist() == reference[1].tolist()


@pytest.mark.parametrize("seed", range(12))
def test_many_rebuild_cycles_give_the_old_arrays_and_the_same_lookups(monkeypatch, seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    monkeypatch.setattr(ix, "CHUNK", int(rng.choice([5, 64, 1000])))
    monkeypatch.setattr(ix, "HOT_ARTICLES", 4)
    bound = int(rng.integers(8, 60))
    young_articles = max(4, bound // 8)
    bands, old = _Bands(young_articles), OldBands(young_articles)
    if seed % 3 == 0:
        bands.capacity = int(rng.integers(0, 3 * _BANDS))  # far below the bound: the buffers must grow
    texts = [random_keys(rng, _BANDS, int(rng.choice([0, 5]))) for _ in range(6)]  # identical texts: same keys
    low = slot = rebuilds = 0
    for _ in range(400):
        for _ in range(int(rng.integers(1, 12))):  # a few adds between two lookups
            keys = texts[int(rng.integers(len(texts)))] if rng.random() < 0.4 else random_keys(rng, _BANDS, 0)
            bands.add(keys, slot)
            old.pending.append((keys, slot))
            slot += 1
            if rng.random() < 0.02:
                low = slot  # everything held so far evicted at once
            elif rng.random() < 0.1:
                low = int(rng.integers(low, slot + 1))  # a random number of the oldest evicted
            low = max(low, slot - bound)  # and the bound's evictions
        before = len(bands.main_keys)
        if rng.random() < 0.05:
            bands.flush(low)
            old.flush(low)
        else:
            bands.settle(low)
            old.settle(low)
        rebuilds += bands.young_count == 0 and bands.hot_count == 0
        assert bands.main.keys.tolist() == old.main[0].tolist()
        assert bands.main.slots.tolist() == old.main[1].tolist()
        assert len(bands.main_keys) >= bands.main_size == len(bands.main)
        assert len(bands.main_keys) == before or before == 0 or bands.main_size > before  # grown only when full
        assert bands.main.starts.tolist() == old_starts(old.main[0]).tolist()
        assert bands.young.keys.tolist() == old.young[0].tolist() and bands.hot_keys.tolist() == old.hot_keys.tolist()
        # lookups: the table reads the valid prefix only, and finds what a binary search finds
        query = np.concatenate((texts[int(rng.integers(len(texts)))][:8], random_keys(rng, 4, 0),
                                old.main[0][rng.integers(0, len(old.main[0]), size=4)] if len(old.main[0]) else
                                ix._EMPTY_KEYS))
        found, expect = bands.main.find(query), _search(*old.main, query)
        assert sorted(set(found.tolist()) if found is not None else ()) == \
            sorted(set(expect.tolist()) if expect is not None else ())
    assert rebuilds > 20


def test_the_run_table_is_the_old_one_across_chunks(monkeypatch) -> None:
    monkeypatch.setattr(ix, "CHUNK", 3)
    rng = np.random.default_rng(7)
    for keys in (ix._EMPTY_KEYS, np.zeros(50, dtype=ix.KEY), np.sort(random_keys(rng, 1000, 0)),
                 np.sort(random_keys(rng, 333, 9)), np.full(40, 2**ix.KEY_BITS - 1, dtype=ix.KEY)):
        table = _Table(keys, np.arange(len(keys), dtype=np.uint32))
        assert table.starts.tolist() == old_starts(keys).tolist()
        widest = int(np.diff(old_starts(keys)).max()) if len(keys) else 0
        assert len(table.window) == min(widest, ix.WINDOW) and table.long == (widest > ix.WINDOW)


def test_main_is_rebuilt_in_its_buffers_without_a_second_copy() -> None:
    rng = np.random.default_rng(3)
    bands = _Bands(200)
    assert bands.capacity == 200 * ix.YOUNG_SHARE * _BANDS
    slot = 0
    for _ in range(12):  # twelve rebuilds, evicting as a full index of 1,600 would
        for _ in range(200):
            bands.add(random_keys(rng, _BANDS, 0), slot)
            slot += 1
        bands.settle(max(0, slot - 1600))
        assert bands.young_count == 0
        if slot == 200:
            buffers = (bands.main_keys, bands.main_slots)
        assert bands.main_keys is buffers[0] and bands.main_slots is buffers[1]  # allocated once, for the bound
        assert np.shares_memory(bands.main.keys, buffers[0]) and np.shares_memory(bands.main.slots, buffers[1])
    assert len(bands.main) == 1600 * _BANDS == len(buffers[0])


@pytest.mark.parametrize("old, new", [(1_000_000, 100_000), (0, 1_000_000), (1_000_000, 1_000_000)])
def test_compaction_and_merge_allocate_chunks_only(old: int, new: int) -> None:
    """A rebuild at the bound (young 1/8 of main), a first load (everything new) and a merge of
    two equal halves: the temporaries stay a few chunks, whatever the sizes."""
    import tracemalloc

    rng = np.random.default_rng(5)
    keys = np.empty(old + new, dtype=ix.KEY)
    slots = np.empty(old + new, dtype=np.uint32)
    keys[:old] = np.sort(random_keys(rng, old, 0))
    slots[:old] = rng.integers(0, 100, size=old)
    new_keys = np.sort(random_keys(rng, new, 0))
    new_slots = rng.integers(100, 200, size=new).astype(np.uint32)
    tracemalloc.start()
    try:
        size = _compact(keys, slots, old, 10)
        total = _merge_into(keys, slots, size, new_keys, new_slots)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a few chunks' worth (a chunk's keys, slots and intp positions): ~5 MB, where the arrays
    # here are 8-16 MB
    assert peak < 6 * ix.CHUNK * 12
    assert total == size + new and (keys[1:total] >= keys[:total - 1]).all()
