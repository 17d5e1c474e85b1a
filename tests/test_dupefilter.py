"""The compact duplicate filter: the same answers as Scrapy's RFPDupeFilter, a job folder's
requests.seen readable by either, and a fixed few bytes per request."""

from __future__ import annotations

import io
import random
import tracemalloc

import pytest
from scrapy import Request
from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.test import get_crawler

from crawler.digests import DigestSet, digest
from crawler.crawl.dupefilter import CompactDupeFilter, read_fingerprints
from crawler.crawl.jobdir import DurableDupeFilter


def _requests(n: int, seed: int = 1) -> list[Request]:
    rng = random.Random(seed)
    return [Request(f"https://www.busan.com/view/busan/view.php?code={rng.randrange(10**17, 10**18)}") for _ in range(n)]


def _filter(cls, jobdir=None):
    settings = {"JOBDIR": str(jobdir)} if jobdir else {}
    return cls.from_crawler(get_crawler(settings_dict=settings))


def test_digest_set_is_a_set_of_nonzero_64_bit_numbers():
    rng = random.Random(7)
    values = [rng.randrange(1, 2**64) for _ in range(20_000)] + [1, 2**64 - 1]
    s = DigestSet(capacity=4)  # grows many times over
    reference: set[int] = set()
    for value in values + values[:500]:
        assert s.add(value) == (value not in reference)
        reference.add(value)
    assert len(s) == len(reference)
    assert all(value in s for value in reference)
    assert not any(rng.randrange(1, 2**64) in s for _ in range(2_000))
    assert 0 not in s and -1 not in s and 2**64 not in s and "x" not in s
    with pytest.raises(ValueError):
        s.add(0)


def test_digest_set_collides_on_the_low_bits_without_losing_values():
    s = DigestSet(capacity=16)
    same_slot = [(k << 40) | 5 for k in range(1, 200)]  # equal low bits: one long probe run
    for value in same_slot:
        assert s.add(value)
    assert all(value in s for value in same_slot)
    assert (300 << 40) | 5 not in s


def test_digest_never_zero():
    assert digest(bytes(20)) == 1
    assert digest(bytes(range(20))) == int.from_bytes(bytes(range(8)), "little")


def test_same_answers_as_scrapys_filter():
    reqs = _requests(3_000)
    # duplicates under other URL forms Scrapy's fingerprint treats as one (fragment, query order)
    dupes = [Request(r.url + "#top") for r in reqs[:300]] + reqs[100:400]
    ours, scrapys = _filter(CompactDupeFilter), _filter(RFPDupeFilter)
    for request in reqs + dupes + [Request(r.url, method="POST") for r in reqs[:50]]:
        assert ours.request_seen(request) == scrapys.request_seen(request), request
    assert len(ours) == len(scrapys._fingerprints) == 3_050


def test_jobdir_written_by_either_filter_resumes_with_the_other(tmp_path):
    first, second = _requests(500, seed=2), _requests(500, seed=3)
    for writer, reader in ((RFPDupeFilter, CompactDupeFilter), (CompactDupeFilter, RFPDupeFilter),
                           (DurableDupeFilter, CompactDupeFilter)):
        jobdir = tmp_path / f"{writer.__name__}-{reader.__name__}"
        jobdir.mkdir()
        df = _filter(writer, jobdir)
        assert not any(df.request_seen(r) for r in first)
        df.close("shutdown")
        resumed = _filter(reader, jobdir)
        assert all(resumed.request_seen(r) for r in first), (writer, reader)
        assert not any(resumed.request_seen(r) for r in second)  # and records what is new after them
        resumed.close("shutdown")
        again = _filter(writer, jobdir)
        assert all(again.request_seen(r) for r in first + second)
        again.close("finished")


def test_durable_filter_flushes_each_new_fingerprint(tmp_path):
    df = _filter(DurableDupeFilter, tmp_path)
    request = _requests(1)[0]
    df.request_seen(request)
    # readable before close (a kill -9 closes nothing)
    data = (tmp_path / "requests.seen").read_bytes()
    assert list(read_fingerprints(io.BytesIO(data))) == [df.fingerprinter.fingerprint(request)]
    df.close("shutdown")


def test_seen_file_cut_short_by_a_kill_keeps_the_whole_records(tmp_path):
    df = _filter(CompactDupeFilter, tmp_path)
    reqs = _requests(3, seed=4)
    for r in reqs:
        df.request_seen(r)
    df.close("shutdown")
    path = tmp_path / "requests.seen"
    path.write_bytes(path.read_bytes()[:-5])
    resumed = _filter(CompactDupeFilter, tmp_path)
    assert len(resumed) == 2
    assert resumed.request_seen(reqs[0]) and not resumed.request_seen(reqs[2])
    resumed.close("finished")


def test_read_fingerprints_across_chunk_boundaries():
    records = [bytes([n % 251]) * (n % 40 + 1) for n in range(60_000)]  # > the 1 MB read size
    data = b"".join(len(r).to_bytes(2, "big") + r for r in records)
    assert list(read_fingerprints(io.BytesIO(data))) == records


def test_memory_per_request_is_a_fraction_of_scrapys():
    reqs = _requests(50_000, seed=5)
    fingerprints = [RFPDupeFilter().fingerprinter.fingerprint(r) for r in reqs]

    def traced(cls) -> float:
        df = _filter(cls)
        # the fingerprints made above, each a new object as the fingerprinter returns it
        df.fingerprinter.fingerprint = lambda request, _it=iter(fingerprints): bytes(bytearray(next(_it)))
        tracemalloc.start()
        try:
            for r in reqs:
                df.request_seen(r)
            return tracemalloc.get_traced_memory()[0] / len(reqs)
        finally:
            tracemalloc.stop()

    ours, scrapys = traced(CompactDupeFilter), traced(RFPDupeFilter)
    assert ours <= 25, ours  # the table at its fullest: 2/3 load, 8 bytes a slot
    assert scrapys > 3 * ours, (ours, scrapys)
