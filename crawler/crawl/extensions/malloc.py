"""Large allocations of the crawl process straight from the kernel, so they go back when freed.

glibc's malloc serves a request of at least its mmap threshold (128 KB to start with) with a
mapping of its own, returned to the system by free(); smaller ones come from the heap, which
only shrinks from its top. The threshold is dynamic: each time a mapped block is freed, it
rises to that block's size (up to 32 MB). In a crawl the story index rebuilds its band arrays
(8 bytes per band key: megabytes at its bound) each time its young array fills
(crawler.dedup.index: YOUNG_SHARE) and merges its young arrays every HOT_ARTICLES articles,
and a refresh reads rows in batches of megabytes: after the first large free, all of these
land in the heap, between the small objects the crawl keeps, and the heap keeps what they
used, its free part growing while the bytes in use stay flat (`bench/soak_bench.py --heap N`
samples glibc's heap and mapped blocks to show it).

Setting the threshold explicitly (mallopt M_MMAP_THRESHOLD) keeps it where it is set: arrays
of NEWSDESK_MALLOC_MMAP_THRESHOLD bytes and more are mapped and unmapped, whatever was freed
before. A mapping costs a system call and its pages' first-touch faults, and a crawl maps
only a few such arrays a second. Only the crawl process is changed (its child processes start
with glibc's defaults); on a libc other than glibc, or with the setting 0, nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from typing import Any

from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_MAX_THRESHOLD = 32 * 1024 * 1024  # glibc refuses more (HEAP_MAX_SIZE / 2 on 64-bit)


def _glibc() -> Any:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        libc.gnu_get_libc_version()
    except (OSError, AttributeError):  # not glibc (musl, macOS): no mallopt of this kind
        return None
    return libc


def set_mmap_threshold(size: int) -> bool:
    """Fix glibc's mmap threshold at `size` bytes (no more dynamic rise); False when this
    is not glibc or glibc refuses the value."""
    if not 0 < size <= _MAX_THRESHOLD:
        raise ValueError(f"mmap threshold {size}: expected 1 to {_MAX_THRESHOLD} bytes")
    libc = _glibc()
    if libc is None:
        return False
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(libc.mallopt(M_MMAP_THRESHOLD, size))


class MallocTuning:
    """Scrapy extension: NEWSDESK_MALLOC_MMAP_THRESHOLD applied when the crawler is created
    (module docstring); NotConfigured with 0 or without glibc."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold

    @classmethod
    def from_crawler(cls, crawler: Any) -> MallocTuning:
        threshold = crawler.settings.getint("NEWSDESK_MALLOC_MMAP_THRESHOLD", 0)
        if threshold <= 0:
            raise NotConfigured("NEWSDESK_MALLOC_MMAP_THRESHOLD is 0")
        if not set_mmap_threshold(threshold):
            raise NotConfigured("not glibc's malloc: NEWSDESK_MALLOC_MMAP_THRESHOLD has no effect")
        crawler.stats.set_value("newsdesk/malloc_mmap_threshold", threshold)
        return cls(threshold)
