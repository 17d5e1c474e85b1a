"""The story index as it was before the bounded one (crawler.dedup.index): datasketch's
MinHashLSH with a dict per band (bucket -> slot or tuple of slots), every article kept.

Kept for bench/dedup_bench.py only, to measure lookup time and memory against it in the same
run; the comparison (same_story) is the same code as the current index's."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH
from datasketch.storage import OrderedStorage, UnorderedStorage

from crawler.dedup.index import StoryIndex as _Current
from crawler.dedup.stories import (
    LSH_BANDS,
    NUM_PERM,
    Probe,
    StoryRecord,
    StorySignature,
    _U32,
)

class _Buckets(UnorderedStorage):
    """One LSH band: bucket -> the key itself, or a tuple of keys once several share it.

    datasketch's dict storage keeps a set per bucket (216 bytes); with 64 bands and nearly
    every bucket holding one article, that would be most of the index's memory."""

    def __init__(self) -> None:
        self._dict: dict[Hashable, Any] = {}

    def keys(self) -> Any:
        return self._dict.keys()

    def get(self, key: Hashable) -> tuple:
        value = self._dict.get(key)
        return () if value is None else value if type(value) is tuple else (value,)

    def insert(self, key: Hashable, *vals: Hashable, **kwargs: Any) -> None:
        for val in vals:
            known = self._dict.get(key)
            if known is None:
                self._dict[key] = val
            elif type(known) is tuple:
                if val not in known:
                    self._dict[key] = known + (val,)
            elif known != val:
                self._dict[key] = (known, val)

    def remove(self, *keys: Hashable, **kwargs: Any) -> None:
        for key in keys:
            self._dict.pop(key, None)

    def remove_val(self, key: Hashable, val: Hashable, **kwargs: Any) -> None:
        rest = tuple(v for v in self.get(key) if v != val)
        if not rest:
            self._dict.pop(key, None)
        else:
            self._dict[key] = rest if len(rest) > 1 else rest[0]

    def size(self) -> int:
        return len(self._dict)

    def itemcounts(self, **kwargs: Any) -> dict:
        return {k: len(self.get(k)) for k in self._dict}

    def has_key(self, key: Hashable) -> bool:
        return key in self._dict


class _Keys(OrderedStorage):
    """The index's key list, without the per-key band list (the index never removes keys)."""

    def __init__(self) -> None:
        self._keys: set[Hashable] = set()

    def keys(self) -> Any:
        return iter(self._keys)

    def get(self, key: Hashable) -> list:
        raise NotImplementedError("the story index does not remove articles; rebuild it instead")

    def insert(self, key: Hashable, *vals: Any, **kwargs: Any) -> None:
        self._keys.add(key)

    def remove(self, *keys: Hashable, **kwargs: Any) -> None:
        raise NotImplementedError("the story index does not remove articles; rebuild it instead")

    def remove_val(self, key: Hashable, val: Any, **kwargs: Any) -> None:
        raise NotImplementedError("the story index does not remove articles; rebuild it instead")

    def size(self) -> int:
        return len(self._keys)

    def itemcounts(self, **kwargs: Any) -> dict:
        return dict.fromkeys(self._keys, 0)

    def has_key(self, key: Hashable) -> bool:
        return key in self._keys


class CompactLSH(MinHashLSH):
    """datasketch's MinHashLSH (its bands, its storage interface) with compact buckets and
    band keys computed for all bands at once: a band of two 32-bit values is one 64-bit
    number, so a lookup is 64 dictionary probes instead of 64 numpy slices turned to bytes."""

    def __init__(self, num_perm: int = NUM_PERM, params: tuple[int, int] = LSH_BANDS) -> None:
        super().__init__(num_perm=num_perm, params=params)
        self.hashtables = [_Buckets() for _ in range(self.b)]
        self.keys = _Keys()

    def band_keys(self, minhash: MinHash) -> list[Hashable]:
        values = np.ascontiguousarray(minhash.hashvalues[: self.b * self.r], dtype=_U32)
        if self.r == 2:
            return values.view("<u8").tolist()
        return [row.tobytes() for row in values.reshape(self.b, self.r)]

    def _insert(self, key: Hashable, minhash: Any, check_duplication: bool = True, buffer: bool = False) -> None:
        if len(minhash) != self.h:
            raise ValueError(f"expecting a MinHash with {self.h} permutations, got {len(minhash)}")
        if check_duplication and key in self.keys:
            raise ValueError("The given key already exists")
        self.keys.insert(key)
        for band_key, table in zip(self.band_keys(minhash), self.hashtables):
            table.insert(band_key, key)

    def query(self, minhash: Any) -> list[Hashable]:
        if len(minhash) != self.h:
            raise ValueError(f"expecting a MinHash with {self.h} permutations, got {len(minhash)}")
        found: set[Hashable] = set()
        for band_key, table in zip(self.band_keys(minhash), self.hashtables):
            value = table._dict.get(band_key)
            if value is not None:
                if type(value) is tuple:
                    found.update(value)
                else:
                    found.add(value)
        return list(found)


class PreviousStoryIndex:
    """The previous StoryIndex's storage and lookup (add, candidates, find), unbounded."""

    def __init__(self, num_perm: int = NUM_PERM) -> None:
        self.lsh = CompactLSH(num_perm=num_perm)
        self.urls: list[str] = []
        self.records: list[StoryRecord] = []
        self.stories: dict[str, str] = {}
        self._decide = _Current()  # same_story(): the same comparison and thresholds

    def add(self, canonical_url: str, sig: StorySignature | tuple[MinHash, StoryRecord], story_id: str) -> None:
        if canonical_url in self.stories:
            self.stories[canonical_url] = story_id
            return
        minhash, record = (sig.minhash, sig.record) if isinstance(sig, StorySignature) else sig
        slot = len(self.urls)
        self.lsh.insert(slot, minhash, check_duplication=False)
        self.urls.append(canonical_url)
        self.records.append(record)
        self.stories[canonical_url] = story_id

    def candidates(self, sig: StorySignature) -> set[int]:
        found = set(self.lsh.query(sig.minhash))
        if sig.lead is not None:
            found.update(self.lsh.query(sig.lead))
        return found

    def find(self, sig: StorySignature) -> Any:
        best, best_score, probe = None, 0.0, None
        for slot in self.candidates(sig):
            probe = probe or Probe(sig.record)
            found = self._decide.same_story(probe, self.records[slot])
            if found is not None:
                score = found.score(self._decide.title_weight, self._decide.paraphrase_weight)
                if score > best_score:
                    best, best_score = (self.urls[slot], found), score
        return best
