"""Story clusters: every copy of one story, across outlets, gets the same story_id.

A MinHash signature of the story text's character shingles (crawler.text.fingerprint)
estimates the Jaccard similarity of two bodies; datasketch's MinHashLSH finds the stored
signatures likely to be similar without comparing against all of them. Costs, measured in
bench/dedup_bench.py for a 2,600-character article: stock datasketch (128 permutations,
SHA-1, one update per shingle, permutations regenerated per object) ~14 ms; crc32 hashing,
64 affine32 permutations generated once and shared, one numpy batch update: ~1.3 ms with the
lookup, at the labelled pairs' precision.

Reprints are often cut (a regional desk keeps the first half of a wire story), so the
decision uses containment, |A∩B| / min(|A|, |B|), estimated from the MinHash Jaccard and the
two shingle counts, rather than Jaccard itself; and daily templated items (weather, market
closes, traffic notices) share most of their words and differ in their numbers, so the
numbers printed in the two texts must mostly agree too. Both thresholds were chosen on
bench/dedup/pairs.jsonl (bench/dedup_bench.py): precision first.

The index holds the articles first seen in the last `window_days` (reprints of one story
appear within days), rebuilt from Mongo at the start of each crawl: bounded memory, nothing
to keep consistent on disk, and it survives restarts by construction.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from functools import cache
from typing import Any, Iterable

import numpy as np
from datasketch import MinHash, MinHashLSH

from crawler.text.fingerprint import shingles, squash, story_clean

NUM_PERM = 64
SCHEME = "affine32"  # datasketch 2.x: 32-bit values, one multiply-add per permutation
DEFAULT_THRESHOLD = 0.70  # estimated containment; chosen on bench/dedup/pairs.jsonl
NUMBERS_THRESHOLD = 0.5  # share of the shorter text's numbers the other one prints too
LSH_THRESHOLD = 0.2  # candidate retrieval (Jaccard): low, so cut reprints are still found
MIN_STORY_CHARS = 80  # shorter story texts (photo captions, briefs) are not clustered
MAX_NUMBERS = 64
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@cache
def _permutations(num_perm: int) -> Any:
    """The permutation parameters, generated once per process (the costly part of MinHash())."""
    return MinHash(num_perm=num_perm, hashfunc=zlib.crc32, scheme=SCHEME).permutations


@dataclass
class StorySignature:
    """What a story is compared by: the MinHash, the shingle count, the numbers printed."""

    minhash: MinHash
    size: int
    numbers: frozenset[str]

    def containment(self, other: "StorySignature") -> float:
        """|A∩B| / min(|A|, |B|), estimated from the MinHash Jaccard J and the set sizes:
        |A∩B| = J (|A| + |B|) / (1 + J)."""
        j = self.minhash.jaccard(other.minhash)
        smaller = min(self.size, other.size) or 1
        return min(1.0, j * (self.size + other.size) / ((1 + j) * smaller))

    def numbers_agree(self, other: "StorySignature") -> float:
        """Share of the shorter list of numbers the other text also prints (1.0 if either has none)."""
        if not self.numbers or not other.numbers:
            return 1.0
        return len(self.numbers & other.numbers) / min(len(self.numbers), len(other.numbers))


def signature(body: str, num_perm: int = NUM_PERM) -> StorySignature | None:
    """The body's story signature, or None when the body is too short to tell."""
    clean = story_clean(body)
    text = squash(clean)
    if len(text) < MIN_STORY_CHARS:
        return None
    grams = shingles(text)
    minhash = MinHash(num_perm=num_perm, hashfunc=zlib.crc32, permutations=_permutations(num_perm), scheme=SCHEME)
    minhash.update_batch(list(grams))
    return StorySignature(minhash, len(grams), frozenset(numbers_of(clean)))


def numbers_of(body: str) -> list[str]:
    """The numbers a text prints, in order, without repeats (at most MAX_NUMBERS). Given the
    cleaned story text, so bylines, e-mails and 1천300만-style figures agree across reprints."""
    return list(dict.fromkeys(n.replace(",", "") for n in _NUMBER.findall(body or "")))[:MAX_NUMBERS]


def to_bytes(minhash: MinHash) -> bytes:
    """Compact storage form: the affine32 scheme's hash values are 32-bit."""
    return np.asarray(minhash.hashvalues, dtype=np.uint32).tobytes()


def from_bytes(data: bytes, num_perm: int = NUM_PERM) -> MinHash:
    values = np.frombuffer(data, dtype=np.uint32).copy()
    return MinHash(num_perm=num_perm, hashfunc=zlib.crc32, permutations=_permutations(num_perm),
                   hashvalues=values, scheme=SCHEME)


def new_story_id(canonical_url: str) -> str:
    """A stable id for a story first seen at `canonical_url`."""
    return "s" + hashlib.blake2b(canonical_url.encode("utf-8"), digest_size=8).hexdigest()


@dataclass
class Match:
    story_id: str
    similarity: float | None  # estimated containment in the closest earlier copy; None: first copy
    closest_url: str | None = None


class StoryIndex:
    """Signatures of recent articles in an LSH index, with their story ids."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, num_perm: int = NUM_PERM,
                 numbers_threshold: float = NUMBERS_THRESHOLD) -> None:
        self.threshold = threshold
        self.numbers_threshold = numbers_threshold
        self.num_perm = num_perm
        self.lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=num_perm)
        self.signatures: dict[str, StorySignature] = {}
        self.stories: dict[str, str] = {}
        self.skipped = 0  # stored signatures that could not be read

    def __len__(self) -> int:
        return len(self.signatures)

    def add(self, canonical_url: str, sig: StorySignature, story_id: str) -> None:
        if canonical_url in self.signatures:
            self.stories[canonical_url] = story_id
            return
        self.lsh.insert(canonical_url, sig.minhash)
        self.signatures[canonical_url] = sig
        self.stories[canonical_url] = story_id

    def load(self, rows: Iterable[dict[str, Any]]) -> int:
        """Add stored articles ({canonical_url, minhash, story_shingles, story_numbers,
        story_id}); returns how many."""
        count = 0
        for row in rows:
            data = row.get("minhash")
            if not isinstance(data, (bytes, bytearray)) or not row.get("story_id"):
                self.skipped += 1 if data else 0
                continue
            try:
                sig = StorySignature(from_bytes(bytes(data), self.num_perm), int(row.get("story_shingles") or 0),
                                     frozenset(row.get("story_numbers") or ()))
            except (ValueError, TypeError):  # a damaged signature costs one article its story, not the crawl
                self.skipped += 1
                continue
            self.add(row["canonical_url"], sig, row["story_id"])
            count += 1
        return count

    def same_story(self, a: StorySignature, b: StorySignature) -> float | None:
        """The containment when a and b are one story by both tests, else None."""
        containment = a.containment(b)
        if containment >= self.threshold and a.numbers_agree(b) >= self.numbers_threshold:
            return containment
        return None

    def assign(self, canonical_url: str, sig: StorySignature) -> Match:
        """The story this article belongs to (adding it to the index)."""
        if canonical_url in self.stories:  # a recrawl keeps its story
            return Match(self.stories[canonical_url], None)
        best_url, best = None, 0.0
        for candidate in self.lsh.query(sig.minhash):
            score = self.same_story(sig, self.signatures[candidate])
            if score is not None and score > best:
                best_url, best = candidate, score
        if best_url is not None:
            match = Match(self.stories[best_url], round(best, 4), best_url)
        else:
            match = Match(new_story_id(canonical_url), None)
        self.add(canonical_url, sig, match.story_id)
        return match
