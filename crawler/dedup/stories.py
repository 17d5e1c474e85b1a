"""Story clusters: every copy of one story, across outlets, gets the same story_id.

A MinHash signature of the story text's character shingles (crawler.text.fingerprint)
estimates the Jaccard similarity of two bodies; datasketch's MinHashLSH finds the stored
signatures likely to be above the threshold without comparing against all of them, and the
estimate against each candidate decides. Costs, measured in bench/dedup_bench.py: the stock
MinHash (128 permutations, SHA-1, permutations regenerated per object) costs ~5 ms per
2,600-character article; crc32 hashing, 64 permutations generated once and shared, and one
numpy batch update cost under 1 ms, with the labelled pairs' precision and recall kept.

The index holds the articles first seen in the last `window_days` (reprints of one story
appear within days), rebuilt from Mongo at the start of each crawl: bounded memory, nothing
to keep consistent on disk, and it survives restarts by construction.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from functools import cache
from typing import Any, Iterable

import numpy as np
from datasketch import MinHash, MinHashLSH

from crawler.text.fingerprint import shingles, story_text

NUM_PERM = 64
DEFAULT_THRESHOLD = 0.5  # chosen on bench/dedup/pairs.jsonl (see bench/dedup_bench.py)
MIN_STORY_CHARS = 80  # shorter story texts (photo captions, briefs) are not clustered


@cache
def _permutations(num_perm: int) -> Any:
    """The permutation parameters, generated once per process (the costly part of MinHash())."""
    return MinHash(num_perm=num_perm, hashfunc=zlib.crc32).permutations


def signature(body: str, num_perm: int = NUM_PERM) -> MinHash | None:
    """MinHash of the body's story text, or None when the body is too short to tell."""
    text = story_text(body)
    if len(text) < MIN_STORY_CHARS:
        return None
    minhash = MinHash(num_perm=num_perm, hashfunc=zlib.crc32, permutations=_permutations(num_perm))
    minhash.update_batch(list(shingles(text)))
    return minhash


def to_bytes(minhash: MinHash) -> bytes:
    """Compact storage form: hash values fit in 32 bits (datasketch caps them at 2**32 - 1)."""
    return np.asarray(minhash.hashvalues, dtype=np.uint32).tobytes()


def from_bytes(data: bytes, num_perm: int = NUM_PERM) -> MinHash:
    values = np.frombuffer(data, dtype=np.uint32).astype(np.uint64)
    return MinHash(num_perm=num_perm, hashfunc=zlib.crc32, permutations=_permutations(num_perm), hashvalues=values)


def new_story_id(canonical_url: str) -> str:
    """A stable id for a story first seen at `canonical_url`."""
    return "s" + hashlib.blake2b(canonical_url.encode("utf-8"), digest_size=8).hexdigest()


@dataclass
class Match:
    story_id: str
    similarity: float | None  # estimated Jaccard with the closest earlier copy; None: first copy
    closest_url: str | None = None


class StoryIndex:
    """Signatures of recent articles in an LSH index, with their story ids."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, num_perm: int = NUM_PERM) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.signatures: dict[str, MinHash] = {}
        self.stories: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.signatures)

    def add(self, canonical_url: str, minhash: MinHash, story_id: str) -> None:
        if canonical_url in self.signatures:
            self.stories[canonical_url] = story_id
            return
        self.lsh.insert(canonical_url, minhash)
        self.signatures[canonical_url] = minhash
        self.stories[canonical_url] = story_id

    def load(self, rows: Iterable[dict[str, Any]]) -> int:
        """Add stored articles ({canonical_url, minhash bytes, story_id}); returns how many."""
        count = 0
        for row in rows:
            data = row.get("minhash")
            if not data or not row.get("story_id"):
                continue
            self.add(row["canonical_url"], from_bytes(bytes(data), self.num_perm), row["story_id"])
            count += 1
        return count

    def assign(self, canonical_url: str, minhash: MinHash) -> Match:
        """The story this article belongs to (adding it to the index)."""
        if canonical_url in self.stories:  # a recrawl keeps its story
            return Match(self.stories[canonical_url], None)
        best_url, best = None, 0.0
        for candidate in self.lsh.query(minhash):
            similarity = minhash.jaccard(self.signatures[candidate])
            if similarity > best:
                best_url, best = candidate, similarity
        if best_url is not None and best >= self.threshold:
            match = Match(self.stories[best_url], round(best, 4), best_url)
        else:
            match = Match(new_story_id(canonical_url), None)
        self.add(canonical_url, minhash, match.story_id)
        return match
