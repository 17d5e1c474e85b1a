"""Sets of 64-bit digests in one flat array: a few bytes an entry, where a Python set of
bytes or int objects costs 60-100. Used wherever a long crawl remembers many URLs or
requests (crawler/crawl/dupefilter.py, the spiders' requested URLs, the story index's evictions)."""

from __future__ import annotations

import hashlib
from array import array

_MASK = 2**64 - 1
_MAX_LOAD = 2 / 3  # entries per slot before the table doubles: 12 to 24 bytes per entry


def digest(fingerprint: bytes) -> int:
    """A request fingerprint (a hash already, 20 bytes for Scrapy's) as a 64-bit number, never 0."""
    value = int.from_bytes(fingerprint[:8], "little")
    return value or 1  # 0 marks an empty slot; a fingerprint starting with eight zero bytes shares 1's


def url_key(url: str) -> int:
    """A URL as a nonzero 64-bit number (blake2b), for DigestSet: two URLs of one crawl share
    one with odds of about n^2 / 2^65 (3 in 10^8 for a million)."""
    return digest(hashlib.blake2b(url.encode("utf-8"), digest_size=8).digest())


class DigestSet:
    """A set of 64-bit numbers (digests of hashes, so uniformly spread) in one array of 64-bit
    slots, open addressing with linear probing. 0 cannot be stored (it marks a free slot)."""

    __slots__ = ("_slots", "_mask", "_count")

    def __init__(self, capacity: int = 1024) -> None:
        size = 8
        while size * _MAX_LOAD < capacity:
            size *= 2
        self._slots = array("Q", bytes(8 * size))
        self._mask = size - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def _probe(self, value: int) -> tuple[int, bool]:
        """(the slot holding `value`, True), or (the empty slot where it would go, False)."""
        slots, mask = self._slots, self._mask
        at = value & mask
        while True:
            held = slots[at]
            if held == value:
                return at, True
            if held == 0:
                return at, False
            at = (at + 1) & mask

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int) or not 0 < value <= _MASK:
            return False
        return self._probe(value)[1]

    def add(self, value: int) -> bool:
        """Add `value`; True if it was not there yet."""
        if not 0 < value <= _MASK:
            raise ValueError(f"DigestSet holds numbers from 1 to 2**64 - 1, got {value}")
        at, held = self._probe(value)
        if held:
            return False
        self._slots[at] = value
        self._count += 1
        if self._count > len(self._slots) * _MAX_LOAD:
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("Q", bytes(16 * len(old)))
        self._mask = len(self._slots) - 1
        slots, mask = self._slots, self._mask
        for value in old:
            if value:
                at = value & mask
                while slots[at]:
                    at = (at + 1) & mask
                slots[at] = value

    def nbytes(self) -> int:
        return len(self._slots) * self._slots.itemsize
