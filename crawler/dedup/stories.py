"""Story clusters: every copy of one story, across outlets, gets the same story_id.

Two steps, as usual for near-duplicates: candidates from an LSH index, then a closer look.

Candidates. A MinHash (datasketch, 128 affine32 permutations) of the story text's character
5-grams (crawler.text.fingerprint) goes into a MinHashLSH of 64 bands of two values: an
article is a candidate with probability 1 - (1 - J^2)^64 (0.92 at Jaccard 0.2, 0.995 at
0.28), because desk rewrites of one wire story or release share only 20-35 % of their
5-grams. Reprints are also often cut (a regional desk keeps the first half of a wire story),
and a short cut has a low Jaccard with the full story; so a new article also queries with
the MinHash of its first LEAD_CHARS letters, which is close to a cut copy of it.

Closer look (Probe.compare). The index keeps per article a 1-in-SAMPLE_MOD sample of its
5-gram hashes in text order with sentence boundaries, the numbers it prints, the title's
letter pairs and the days it names (StoryRecord; the index holds it packed, its samples as
16-bit fingerprints: HeldRecord). From these:

- containment: sampled |A∩B| / min(|A|, |B|), the share of the shorter text the longer one
  prints too (a cut copy is contained in the full story, so Jaccard is the wrong measure);
- paraphrase: the share of a text in sentences the other covers only partly
  (PARTIAL_LOW..PARTIAL_HIGH of their sampled 5-grams). A desk rewrite of wire copy or of a
  release touches every sentence a little; two different stories share whole sentences (a
  follow-up's background block) or nothing;
- title: Dice coefficient of the titles' letter pairs;
- vetoes: the numbers printed must mostly agree (daily templated items - weather, market
  closes, traffic notices - share their wording and differ in their numbers); and when both
  leads name days of the month, a lead naming only days the other text never mentions is
  another day's report (a follow-up reusing the first report's paragraphs, the next edition
  of a daily item).

score = containment + TITLE_WEIGHT * title + PARAPHRASE_WEIGHT * paraphrase >= threshold.
The weights and the threshold were chosen on bench/dedup/pairs.jsonl with a 2-fold split
(bench/dedup_bench.py prints the search and the held-out figures).

Cost. The 5-gram hashes are computed in bulk with numpy (a polynomial hash of the code
points, then the MurmurHash3 finalizer), and the MinHashes are taken over the sampled
5-grams only, so a 2,600-character article costs about as much as its cleaning regexes
(bench/dedup_bench.py). Memory: the index (crawler.dedup.index) keeps the band keys in
numpy arrays and the compact record, not the MinHash.

The index holds the articles first seen in the last `window_days` (reprints of one story
appear within days), at most `max_articles` of them, rebuilt from Mongo at the start of each
crawl process from the stored signature bytes (to_bytes/from_bytes; SIGNATURE_VERSION marks
the layout, and signatures of an earlier version are counted as stale, not compared):
bounded memory, nothing to keep consistent on disk, and it survives restarts by construction.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any

import numpy as np
from datasketch import MinHash

from crawler.dedup.params import NUMBERS_THRESHOLD, PARAPHRASE_WEIGHT, TITLE_WEIGHT
from crawler.text.fingerprint import (
    MIN_SENTENCE_CHARS,
    SHINGLE,
    lead_days,
    sentence_ends,
    squash,
    story_clean,
    text_days,
)

NUM_PERM = 128
SCHEME = "affine32"  # datasketch 2.x: 32-bit values, one multiply-add per permutation
LSH_BANDS = (64, 2)  # bands x rows: P(candidate) = 1 - (1 - J^2)^64: 0.92 at Jaccard 0.2, 0.995 at 0.28
LEAD_CHARS = 800  # letters of the story text in the second query MinHash (cut copies)
SAMPLE_MOD = 4  # the record keeps the 5-grams whose hash is 0 modulo this
MIN_STORY_CHARS = 80  # shorter story texts (photo captions, briefs) are not clustered
MAX_NUMBERS = 64
MAX_SAMPLES = 2**16 - 1  # sentence starts are stored as uint16 (a 260,000-letter text)

PARTIAL_LOW, PARTIAL_HIGH = 0.25, 0.8  # a sentence with this share of its 5-grams covered is "reworded"

SIGNATURE_VERSION = 2  # 1: the bare 64 x uint32 MinHash of crc32 5-grams (no header)
_VERSION_1_BYTES = 64 * 4
_MAGIC = b"ND"
# magic, version, num_perm, sample_mod, size, samples, sentences, numbers, title pairs, lead days, days (bit masks)
_HEADER = struct.Struct("<2sBBB3xIHHHHII")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_POLY = np.uint64(0x100000001B3)  # FNV's 64-bit prime; odd, so changing one code point always changes the hash
_U32 = np.dtype("<u4")
_U16 = np.dtype("<u2")
_FINGERPRINT_SHIFT = np.uint32(SAMPLE_MOD.bit_length() - 1)  # HeldRecord: the sampled hashes' low bits are 0
# pack_held: size, samples, sentence starts, numbers, title pairs, lead days, days
_HELD = struct.Struct("<IHHHHII")


@cache
def _permutations(num_perm: int) -> Any:
    """The permutation parameters, generated once per process (the costly part of MinHash())."""
    return MinHash(num_perm=num_perm, hashfunc=int, scheme=SCHEME).permutations


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's finalizer: spreads the polynomial hash over all 32 bits, so taking the
    ones that are 0 modulo SAMPLE_MOD is a fair sample."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def story_codes(clean: str) -> tuple[np.ndarray, list[int]]:
    """The story text (fingerprint.squash of the cleaned body) as code points, and where
    its sentences start in it (fingerprint.squashed_sentences, short ones merged): the same
    text and the same units, computed with numpy rather than a regex pass per sentence."""
    raw = np.frombuffer(clean.encode("utf-32-le"), dtype=_U32)
    folded = raw | np.uint32(0x20)
    keep = (((raw >= 0xAC00) & (raw <= 0xD7A3)) | ((raw >= 0x30) & (raw <= 0x39))
            | ((folded >= 0x61) & (folded <= 0x7A)))
    codes = np.where((raw >= 0x41) & (raw <= 0x5A), folded, raw)[keep]
    before = np.concatenate(([0], np.cumsum(keep)))  # letters before each position of `clean`
    bounds = [0, *before[np.asarray(sentence_ends(clean), dtype=np.intp) + 1].tolist(), len(codes)]
    starts: list[int] = []
    for start, end in pairwise(bounds):
        if end > start and not (starts and end - start < MIN_SENTENCE_CHARS):
            starts.append(start)
    return codes, starts


def gram_hashes(text: str | np.ndarray, size: int = SHINGLE) -> np.ndarray:
    """32-bit hashes of the character `size`-grams of `text` (a string or its code points),
    one per position (uint32).

    A polynomial hash of the Unicode code points over a 64-bit ring, folded and mixed: one
    numpy expression per gram position instead of a Python call per gram."""
    if isinstance(text, str):
        text = np.frombuffer(text.encode("utf-32-le"), dtype=_U32)
    codes = text.astype(np.uint64)
    n = len(codes) - size + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint32)
    h = codes[:n].copy()
    for i in range(1, size):
        h *= _POLY
        h += codes[i : i + n]
    return _fmix32((h ^ (h >> np.uint64(32))).astype(np.uint32))


def title_grams(title: str) -> np.ndarray:
    """The title's distinct letter pairs, each as one exact 32-bit number (two code points)."""
    codes = np.frombuffer(squash(title or "").encode("utf-32-le"), dtype=_U32)
    if len(codes) < 2:
        return np.zeros(0, dtype=np.uint32)
    return np.unique((codes[:-1] << np.uint32(16)) | codes[1:])


def numbers_of(body: str) -> list[str]:
    """The numbers a text prints, in order, without repeats (at most MAX_NUMBERS). Given the
    cleaned story text, so bylines, e-mails and 1천300만-style figures agree across reprints."""
    return list(dict.fromkeys(n.replace(",", "") for n in _NUMBER.findall(body or "")))[:MAX_NUMBERS]


def _number_hashes(numbers: Iterable[str]) -> np.ndarray:
    return np.unique(np.fromiter((zlib.crc32(n.encode()) for n in numbers), dtype=np.uint32))


class StoryRecord:
    """What the index keeps of an article to compare it with a new one (compact: bytes).

    samples: the 1-in-SAMPLE_MOD 5-gram hashes, first occurrences, in text order (uint32);
    starts: where each sentence begins in `samples` (uint16); numbers: hashes of the numbers
    printed (sorted uint32); grams: the title's letter pairs (sorted uint32); lead_days, days:
    the days of the month the lead / the whole text names, as bit masks (bit N = "N일");
    size: distinct 5-grams of the story text."""

    __slots__ = ("size", "samples", "starts", "numbers", "grams", "lead_days", "days")
    SAMPLES = _U32  # the samples' type: whole 5-gram hashes (HeldRecord: 16-bit fingerprints)

    def __init__(self, size: int, samples: bytes, starts: bytes, numbers: bytes, grams: bytes,
                 lead_days: int = 0, days: int = 0) -> None:
        self.size, self.samples, self.starts = size, samples, starts
        self.numbers, self.grams = numbers, grams
        self.lead_days, self.days = lead_days, days

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return (np.frombuffer(self.samples, dtype=self.SAMPLES), np.frombuffer(self.starts, dtype=_U16).astype(np.intp),
                np.frombuffer(self.numbers, dtype=_U32), np.frombuffer(self.grams, dtype=_U32))


class HeldRecord(StoryRecord):
    """A record as the story index holds it (pack_held/unpack_held): the samples as 16-bit
    fingerprints, bits 2..17 of each hash (the low bits of a 1-in-SAMPLE_MOD sample are all
    0), half the bytes of a record's largest part. A fingerprint of one text meets one of
    another by chance with odds len(other) / 65536, so containment reads high by about that
    much: +0.007 for an article of 2,600 letters (bench/dedup_bench.py: no decision on the
    labelled pairs changes). Only records of one kind are compared (Probe)."""

    __slots__ = ()
    SAMPLES = _U16


def _fingerprints(samples: bytes) -> bytes:
    """Whole sampled hashes (uint32 bytes) as HeldRecord's 16-bit fingerprints; the cast to
    uint16 keeps the low 16 bits of the shifted hash."""
    return (np.frombuffer(samples, dtype=_U32) >> _FINGERPRINT_SHIFT).astype(_U16).tobytes()


def held(record: StoryRecord) -> HeldRecord:
    """The record in the index's form (itself when it already is)."""
    if isinstance(record, HeldRecord):
        return record
    return HeldRecord(record.size, _fingerprints(record.samples), record.starts, record.numbers, record.grams,
                      record.lead_days, record.days)


def pack_held(record: StoryRecord) -> bytes:
    """The record in the index's form as one bytes object: a header, then numbers and title
    pairs (uint32), samples and sentence starts (uint16). One object where a record takes
    five, and half its samples' bytes (HeldRecord)."""
    samples = record.samples if isinstance(record, HeldRecord) else _fingerprints(record.samples)
    return b"".join((_HELD.pack(min(record.size, 2**32 - 1), len(samples) // 2, len(record.starts) // 2,
                                len(record.numbers) // 4, len(record.grams) // 4, record.lead_days, record.days),
                     record.numbers, record.grams, samples, record.starts))


def unpack_held(data: bytes) -> HeldRecord:
    """pack_held's record again, its parts views of `data` (no copy)."""
    size, n_samples, n_starts, n_numbers, n_grams, lead, days = _HELD.unpack_from(data)
    view = memoryview(data)
    ends = (_HELD.size, _HELD.size + 4 * n_numbers, _HELD.size + 4 * (n_numbers + n_grams))
    samples_end = ends[2] + 2 * n_samples
    return HeldRecord(size, view[ends[2]:samples_end], view[samples_end:samples_end + 2 * n_starts],
                      view[ends[0]:ends[1]], view[ends[1]:ends[2]], lead, days)


def _day_mask(days: Iterable[int]) -> int:
    mask = 0
    for day in days:
        if 0 < day < 32:
            mask |= 1 << day
    return mask


def other_day(a: StoryRecord, b: StoryRecord) -> bool:
    """Both leads name days, and one names none the other text mentions anywhere."""
    return bool(a.lead_days and b.lead_days and (not a.lead_days & b.days or not b.lead_days & a.days))


@dataclass
class StorySignature:
    """A new article's signature: the MinHashes to query and index, the record to compare,
    and the numbers printed (stored as `story_numbers` for analysts)."""

    minhash: MinHash
    lead: MinHash | None  # None when the story text is no longer than the lead
    size: int
    numbers: frozenset[str]
    record: StoryRecord


def minhash_values(hashes: np.ndarray, num_perm: int = NUM_PERM) -> np.ndarray:
    """The MinHash of a set of 32-bit hashes: datasketch's affine32 update (its MurmurHash3
    pre-mix, a * h + b modulo 2^32, minimum per permutation), as one numpy expression."""
    values = np.full(num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
    a, b = _permutations(num_perm)
    mixed = _fmix32(hashes)
    for start in range(0, len(mixed), 4096):  # bounded temporaries for very long texts
        np.minimum(values, (mixed[start : start + 4096, None] * a + b).min(axis=0), out=values)
    return values


def _minhash(values: np.ndarray, num_perm: int) -> MinHash:
    return MinHash(num_perm=num_perm, hashfunc=int, permutations=_permutations(num_perm), hashvalues=values,
                   scheme=SCHEME)


def signature(body: str, title: str = "", num_perm: int = NUM_PERM) -> StorySignature | None:
    """The body's story signature, or None when the body is too short to tell.

    The MinHashes are taken over the same 1-in-SAMPLE_MOD sample of 5-grams the record keeps:
    a sample chosen by hash value is the same part of every text, so it estimates Jaccard
    like the whole set does, for a quarter of the permutation work."""
    clean = story_clean(body)
    codes, offsets = story_codes(clean)
    if len(codes) < MIN_STORY_CHARS:
        return None
    hashes = gram_hashes(codes)
    positions = np.flatnonzero((hashes & np.uint32(SAMPLE_MOD - 1)) == 0)
    sampled = hashes[positions]
    _, first = np.unique(sampled, return_index=True)
    first = np.sort(first)[:MAX_SAMPLES]
    samples, positions = sampled[first], positions[first]
    in_lead = int(np.searchsorted(positions, LEAD_CHARS))
    if in_lead < len(samples):
        lead_values = minhash_values(samples[:in_lead], num_perm)
        values = np.minimum(lead_values, minhash_values(samples[in_lead:], num_perm))
        lead: MinHash | None = _minhash(lead_values, num_perm)
    else:
        values, lead = minhash_values(samples, num_perm), None
    starts = np.searchsorted(positions, offsets)
    numbers = numbers_of(clean)
    size = len(samples) * SAMPLE_MOD  # estimated from the sample: counting exactly costs a sort
    record = StoryRecord(size, samples.astype(_U32).tobytes(), starts.astype(_U16).tobytes(),
                         _number_hashes(numbers).astype(_U32).tobytes(), title_grams(title).astype(_U32).tobytes(),
                         _day_mask(lead_days(title, clean)), _day_mask(text_days(title, clean)))
    return StorySignature(_minhash(values, num_perm), lead, size, frozenset(numbers), record)


def to_bytes(sig: StorySignature) -> bytes:
    """The stored form (`minhash` field): header, MinHash values, then the record."""
    rec = sig.record
    header = _HEADER.pack(_MAGIC, SIGNATURE_VERSION, len(sig.minhash), SAMPLE_MOD, min(rec.size, 2**32 - 1),
                          len(rec.samples) // 4, len(rec.starts) // 2, len(rec.numbers) // 4, len(rec.grams) // 4,
                          rec.lead_days, rec.days)
    values = np.asarray(sig.minhash.hashvalues, dtype=_U32).tobytes()
    return b"".join((header, values, rec.samples, rec.numbers, rec.grams, rec.starts))


def from_bytes(data: bytes, num_perm: int = NUM_PERM) -> tuple[MinHash, StoryRecord]:
    """The MinHash and the record of a stored signature. ValueError for anything but this
    version's layout (a version-1 signature hashed 5-grams differently: it cannot be compared)."""
    values, record = parse_signature(data, num_perm)
    return _minhash(values, num_perm), record


def parse_signature(data: bytes, num_perm: int = NUM_PERM) -> tuple[np.ndarray, StoryRecord]:
    """from_bytes without the MinHash object: the values (uint32) and the record (what the
    index keeps of a stored article)."""
    if not data.startswith(_MAGIC):
        version = 1 if len(data) == _VERSION_1_BYTES else "unknown"
        raise ValueError(f"story signature version {version} ({len(data)} bytes), expected {SIGNATURE_VERSION}")
    if len(data) < _HEADER.size:
        raise ValueError(f"story signature of {len(data)} bytes: too short for a header")
    _, version, perms, mod, size, n_samples, n_starts, n_numbers, n_grams, lead, days = _HEADER.unpack_from(data)
    if version != SIGNATURE_VERSION:
        raise ValueError(f"story signature version {version}, expected {SIGNATURE_VERSION}")
    if perms != num_perm or mod != SAMPLE_MOD:
        raise ValueError(f"story signature with {perms} permutations / sample 1 in {mod}, expected {num_perm} / {SAMPLE_MOD}")
    ends = np.cumsum([_HEADER.size, 4 * perms, 4 * n_samples, 4 * n_numbers, 4 * n_grams, 2 * n_starts]).tolist()
    if ends[-1] != len(data):
        raise ValueError(f"story signature of {len(data)} bytes, its header says {ends[-1]}")
    values = np.frombuffer(data[ends[0] : ends[1]], dtype=_U32).copy()
    record = StoryRecord(size, data[ends[1] : ends[2]], data[ends[4] : ends[5]], data[ends[2] : ends[3]],
                         data[ends[3] : ends[4]], lead, days)
    return values, record


def is_stale(data: Any) -> bool:
    """True for a signature stored by an earlier version (counted, not compared)."""
    data = bytes(data)
    if not data.startswith(_MAGIC):
        return len(data) == _VERSION_1_BYTES
    return len(data) > 2 and data[2] < SIGNATURE_VERSION


def new_story_id(canonical_url: str) -> str:
    """A stable id for a story first seen at `canonical_url`."""
    return "s" + hashlib.blake2b(canonical_url.encode("utf-8"), digest_size=8).hexdigest()


@dataclass
class Comparison:
    """How two records compare (compare())."""

    containment: float
    title: float
    paraphrase: float
    numbers: float
    other_day: bool

    def score(self, title_weight: float = TITLE_WEIGHT, paraphrase_weight: float = PARAPHRASE_WEIGHT) -> float:
        return self.containment + title_weight * self.title + paraphrase_weight * self.paraphrase


def _hits(sorted_other: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Which of `samples` the other text has (its samples sorted)."""
    if not len(sorted_other):
        return np.zeros(len(samples), dtype=bool)
    return sorted_other.take(np.searchsorted(sorted_other, samples), mode="clip") == samples


def _sentences(starts: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
    """(starts, sizes) of the sentences that have samples."""
    sizes = np.diff(np.append(starts, total))
    return starts[sizes > 0], sizes[sizes > 0]


def _partial(hits: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> float:
    """Share of the samples in sentences the other text covers only partly."""
    if not len(starts):
        return 0.0
    share = np.add.reduceat(hits, starts, dtype=np.intp) / sizes
    return float(sizes[(share >= PARTIAL_LOW) & (share < PARTIAL_HIGH)].sum()) / len(hits)


class Probe:
    """A record prepared for comparing with many stored ones (one lookup): its samples
    sorted, its sentences, its numbers and title pairs as sets."""

    __slots__ = ("grams", "numbers", "record", "samples", "sizes", "sorted", "starts")

    def __init__(self, record: StoryRecord) -> None:
        self.record = record
        self.samples, starts, numbers, grams = record.arrays()
        self.starts, self.sizes = _sentences(starts, len(self.samples))
        self.sorted = np.sort(self.samples)
        self.numbers = frozenset(numbers.tolist())
        self.grams = frozenset(grams.tolist())

    def numbers_agree(self, other: StoryRecord) -> float:
        """Share of the shorter list of numbers the other text also prints (1.0 if either has none)."""
        theirs = np.frombuffer(other.numbers, dtype=_U32).tolist()
        if not self.numbers or not theirs:
            return 1.0
        return len(self.numbers.intersection(theirs)) / min(len(self.numbers), len(theirs))

    def title(self, other: StoryRecord) -> float:
        """Dice coefficient of the titles' letter pairs (0.0 when either has no title)."""
        theirs = np.frombuffer(other.grams, dtype=_U32).tolist()
        if not self.grams or not theirs:
            return 0.0
        return 2 * len(self.grams.intersection(theirs)) / (len(self.grams) + len(theirs))

    def containment(self, other: StoryRecord) -> tuple[float, np.ndarray, np.ndarray]:
        """(sampled containment, the other's samples, which of them this text has)."""
        if other.SAMPLES is not self.record.SAMPLES:
            raise ValueError(f"a {type(self.record).__name__} compared with a {type(other).__name__}: "
                             "convert both with held() first")
        samples = np.frombuffer(other.samples, dtype=other.SAMPLES)
        if not len(samples) or not len(self.samples):
            return 0.0, samples, np.zeros(len(samples), dtype=bool)
        hits = _hits(self.sorted, samples)
        return int(hits.sum()) / min(len(samples), len(self.samples)), samples, hits

    def paraphrase(self, other: StoryRecord, samples: np.ndarray, hits: np.ndarray) -> float:
        """The larger of the two texts' shares in partly covered sentences."""
        shared = int(hits.sum())
        if not shared:
            return 0.0
        starts, sizes = _sentences(np.frombuffer(other.starts, dtype=_U16).astype(np.intp), len(samples))
        mine = _hits(np.sort(samples[hits]), self.samples)
        return max(_partial(hits, starts, sizes), _partial(mine, self.starts, self.sizes))

    def compare(self, other: StoryRecord, paraphrase: bool = True) -> Comparison:
        """The evidence that this and `other` are one story (module docstring), all of it.
        `paraphrase=False` skips the sentence-level part (0.0), the costlier one."""
        containment, samples, hits = self.containment(other)
        partial = self.paraphrase(other, samples, hits) if paraphrase else 0.0
        return Comparison(containment, self.title(other), partial, self.numbers_agree(other),
                          other_day(self.record, other))

    def vetoed(self, other: StoryRecord, numbers_threshold: float = NUMBERS_THRESHOLD) -> bool:
        """The cheap tests: the leads report different days, or the numbers disagree."""
        return other_day(self.record, other) or self.numbers_agree(other) < numbers_threshold


def compare(a: StoryRecord, b: StoryRecord, paraphrase: bool = True) -> Comparison:
    """Probe(a).compare(b): the evidence that a and b are one story."""
    return Probe(a).compare(b, paraphrase)

