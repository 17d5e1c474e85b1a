"""Scrapy's duplicate filter in a fixed few bytes per request, for crawls of 100k pages.

Scrapy's RFPDupeFilter keeps every request's 20-byte fingerprint as a bytes object in a set:
about 95 bytes per request (object header, hash slot), held for the whole crawl, so a crawl
that fetches 100k articles carries ~9 MB for it and a million-page crawl ~95 MB. Here each
fingerprint is reduced to its first 8 bytes, a 64-bit number, kept in an open-addressing
hash table of 64-bit slots (`DigestSet`): 12 to 24 bytes per request, one array that grows by
doubling (no per-request objects, no garbage).

What stays as Scrapy has it: the fingerprint (REQUEST_FINGERPRINTER_CLASS decides what a
duplicate is), DUPEFILTER_DEBUG and the filtered-request log, and JOBDIR: the full 20-byte
fingerprints are still appended to `requests.seen` in Scrapy's format (2-byte big-endian
length, then the fingerprint), so a job folder written by either filter resumes with the
other.

What differs: two different requests whose fingerprints share their first 8 bytes count as
one. For n requests in one crawl the chance that any two do is about n^2 / 2^65: 3 in 10^8
for a million. The deprecated `fingerprints` property (hex strings) is not offered: the full
fingerprints are not kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Iterator

from scrapy.dupefilters import RFPDupeFilter
from scrapy.http import Request
from scrapy.utils.request import RequestFingerprinterProtocol

from crawler.digests import DigestSet, digest


def read_fingerprints(file: BinaryIO) -> Iterator[bytes]:
    """The fingerprints of a `requests.seen` file (Scrapy's format: each one's length in 2
    bytes, big-endian, then the fingerprint), read in pieces; a record cut short by a kill
    ends it."""
    pending = b""
    while True:
        chunk = file.read(1 << 20)
        if not chunk:
            return
        data = pending + chunk
        pos = 0
        while pos + 2 <= len(data):
            size = int.from_bytes(data[pos:pos + 2], "big")
            if pos + 2 + size > len(data):
                break
            yield data[pos + 2:pos + 2 + size]
            pos += 2 + size
        pending = data[pos:]


class CompactDupeFilter(RFPDupeFilter):
    """RFPDupeFilter that keeps 8 bytes of each fingerprint in a DigestSet (module docstring)."""

    def __init__(self, path: str | None = None, debug: bool = False, *,
                 fingerprinter: RequestFingerprinterProtocol | None = None) -> None:
        super().__init__(None, debug, fingerprinter=fingerprinter)  # the seen file is read here, not into a set
        self.seen = DigestSet()
        if path:
            self.file = Path(path, "requests.seen").open("a+b")
            self.file.seek(0)
            for fingerprint in read_fingerprints(self.file):
                self.seen.add(digest(fingerprint))
            self.file.seek(0, 2)

    def __len__(self) -> int:
        return len(self.seen)

    @property
    def fingerprints(self) -> frozenset[str]:  # Scrapy's deprecated view of every fingerprint
        raise AttributeError("CompactDupeFilter keeps 8 bytes of each fingerprint, not the fingerprints; len() counts them")

    def request_seen(self, request: Request) -> bool:
        fingerprint = self.fingerprinter.fingerprint(request)
        if not self.seen.add(digest(fingerprint)):
            return True
        if self.file:
            self.file.write(len(fingerprint).to_bytes(2, "big") + fingerprint)
        return False
