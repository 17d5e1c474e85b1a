"""The story index's bound: eviction order, what goes with an evicted article, lookups
across segments, and a rebuild that keeps the newest articles."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from crawler.dedup.index import StoryIndex, band_keys, exact_key
from crawler.dedup.stories import LSH_BANDS, NUM_PERM, StoryRecord, signature, to_bytes

BANDS = LSH_BANDS[0]
WIRE = ("광주시는 14일 시청 브리핑룸에서 도시철도 2호선 1단계 구간을 내년 6월 개통한다고 밝혔다. "
        "1단계 구간은 시청에서 광주역까지 17.06㎞로, 정거장 20곳이 들어선다. "
        "시는 지금까지 사업비 1조2천억원 가운데 8천640억원을 집행했으며 공정률은 78%라고 설명했다. "
        "개통에 앞서 4월부터 두 달 동안 시운전을 하고, 시민 체험단 300명을 모집해 안전 점검을 함께 한다.")
TITLE = "광주 도시철도 2호선 1단계 내년 6월 개통"


def filler(n: int, seed: int) -> str:
    rng = random.Random(seed)
    words = ["".join(chr(0xAC00 + rng.randrange(11172)) for _ in range(rng.randint(2, 5))) for _ in range(n)]
    return " ".join(w + ("다." if i % 9 == 8 else "") for i, w in enumerate(words))


def other(n: int):
    return signature(filler(60, seed=1000 + n), f"다른 기사 {n}")


def url(n: int) -> str:
    return f"https://a.example/{n}"


def held(index: StoryIndex) -> list[str]:
    return [u for s in index.segments for u in s.urls if u is not None]


def test_the_oldest_articles_go_first_and_the_bound_holds() -> None:
    index = StoryIndex(max_articles=10)
    for n in range(25):
        index.add(url(n), other(n), f"s{n}", exact_key("a", f"h{n}", f"t{n}"))
        assert len(index) == min(n + 1, 10)
        assert held(index) == [url(k) for k in range(max(0, n - 9), n + 1)]
    assert index.evicted == 15 and index.size_stats()["articles"] == 10
    # whole segments of evicted articles are dropped: what lingers is at most one segment
    assert len(index.segments) <= 10 // index.segment_size + 2
    assert index.segments[0].base <= index.low < index.segments[0].base + index.segment_size


def test_an_evicted_article_takes_its_story_id_and_exact_key_along() -> None:
    index = StoryIndex(max_articles=4)
    keys = [exact_key("a", f"h{n}", f"t{n}") for n in range(8)]
    for n in range(8):
        index.add(url(n), other(n), f"s{n}", keys[n])
    for n in range(4):
        assert url(n) not in index.stories and index.story_of(url(n)) is None and not index.holds(url(n))
        assert keys[n] not in index.exact
    for n in range(4, 8):
        assert index.stories[url(n)] == f"s{n}" and index.exact[keys[n]] == url(n)
    assert sorted(index.stories) == [url(n) for n in range(4, 8)] and len(index.stories) == 4
    assert set(index.slots) == {url(n) for n in range(4, 8)} and len(index.exact) == 4


def test_an_evicted_article_is_simply_a_new_story() -> None:
    index = StoryIndex(max_articles=8)  # segments of two: the first segment lingers half evicted
    wire = signature(WIRE, TITLE)
    first = index.assign(url(0), wire)
    assert index.assign(url(1), signature(WIRE + " 시는 다음 달 설명회를 연다.", TITLE)).story_id == first.story_id
    for n in range(2, 9):
        index.assign(url(n), other(n))
    assert not index.holds(url(0)) and index.holds(url(1))
    # slot 0's band keys are still in the segment's arrays: found, and skipped
    assert 0 not in index.candidates(wire) and 1 in index.candidates(wire)
    for n in range(9, 11):
        index.assign(url(n), other(n))
    assert not index.holds(url(1)) and index.candidates(wire) == set()
    again = index.assign(url(0), wire)  # the same URL crawled again after eviction
    assert again.similarity is None and again.story_id == first.story_id  # its id comes from its URL
    reprint = index.assign(url(20), signature(WIRE + " 시는 다음 달 설명회를 연다.", TITLE))
    assert reprint.story_id == first.story_id and reprint.closest_url == url(0)
    fresh = index.assign(url(21), other(50))
    assert fresh.similarity is None and len(index) == 8


@pytest.mark.parametrize("bound", [300, 1200])  # segments of 75 (sealed before a hot merge) and of 300
def test_lookups_across_segments_find_exactly_the_articles_sharing_a_band(bound: int) -> None:
    rng = np.random.default_rng(3)
    index = StoryIndex(max_articles=bound)
    values = rng.integers(0, 2**32, size=(500, NUM_PERM), dtype=np.uint32)
    for n in range(1, 500):  # some articles share bands with earlier ones, as reprints do
        if n % 3 == 0:
            donor = int(rng.integers(max(0, n - 400), n))
            bands = rng.choice(BANDS, size=int(rng.integers(1, 4)), replace=False)
            for b in bands:
                values[n, 2 * b : 2 * b + 2] = values[donor, 2 * b : 2 * b + 2]
    record = StoryRecord(4, b"\0" * 4, b"\0\0", b"", b"")
    for n in range(500):
        index.add(url(n), (values[n], record), f"s{n}")
        if n % 7 == 0 or n > 480:
            probe = rng.integers(0, 2**32, size=NUM_PERM, dtype=np.uint32)  # one band from each of two articles
            for b in rng.choice(BANDS, size=2, replace=False):
                donor = int(rng.integers(max(0, n - bound), n + 1))
                probe[2 * b : 2 * b + 2] = values[donor, 2 * b : 2 * b + 2]
            query = band_keys(probe)
            expected = {slot for slot in range(index.low, n + 1)
                        if (band_keys(values[slot]) == query).any()}
            sig = type("Sig", (), {})()
            sig.minhash = type("M", (), {"hashvalues": probe})()
            sig.lead = None
            assert index.candidates(sig) == expected


def test_the_last_key_of_the_main_array_is_found() -> None:
    rng = np.random.default_rng(11)
    index = StoryIndex(max_articles=1000)
    values = rng.integers(0, 2**32, size=(300, NUM_PERM), dtype=np.uint32)
    record = StoryRecord(4, b"\0" * 4, b"\0\0", b"", b"")
    for n in range(300):
        index.add(url(n), (values[n], record), f"s{n}")
    index.bands.flush(index.low)
    main = index.bands.main
    last_slot = int(main.slots[-1])
    band = int(np.flatnonzero(band_keys(values[last_slot]) == main.keys[-1])[0])
    probe = rng.integers(0, 2**32, size=NUM_PERM, dtype=np.uint32)
    probe[2 * band : 2 * band + 2] = values[last_slot, 2 * band : 2 * band + 2]
    assert main.find(band_keys(probe)).tolist() == [last_slot] * len(main.find(band_keys(probe)))
    assert last_slot in index.bands.lookup(band_keys(probe), index.low)


def test_a_rebuild_keeps_the_newest_articles_whatever_order_the_rows_come_in() -> None:
    start = datetime(2025, 3, 1, tzinfo=timezone.utc)
    rows = []
    for n in range(12):
        sig = other(n)
        rows.append({"canonical_url": url(n), "minhash": to_bytes(sig), "story_id": f"s{n}", "outlet": "a",
                     "body_hash": f"h{n}", "title": f"t{n}", "first_seen": start + timedelta(hours=n)})
    rows.append({"canonical_url": url(12), "outlet": "a", "body_hash": "h12", "title": "t12",  # too short to sign
                 "first_seen": start + timedelta(hours=12)})
    random.Random(5).shuffle(rows)
    index = StoryIndex(max_articles=5)
    assert index.load(rows) == 4
    assert held(index) == [url(n) for n in range(8, 13)]  # oldest first, the newest five
    assert url(12) not in index.stories and index.exact[exact_key("a", "h12", "t12")] == url(12)
    assert index.evicted == 0


def test_max_articles_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_articles"):
        StoryIndex(max_articles=0)


def test_evicted_urls_are_remembered_until_the_second_mark():
    from crawler.dedup.index import StoryIndex

    index = StoryIndex(max_articles=2)
    for n in range(4):
        index.add(f"https://a.example/{n}", None, None, exact=n + 1)
    assert [index.evicted_lately(f"https://a.example/{n}") for n in range(4)] == [True, True, False, False]
    index.mark_evictions()
    index.add("https://a.example/4", None, None, exact=5)  # evicts 2, after the mark
    assert [index.evicted_lately(f"https://a.example/{n}") for n in range(5)] == [True, True, True, False, False]
    index.mark_evictions()
    assert [index.evicted_lately(f"https://a.example/{n}") for n in range(5)] == [True, True, True, False, False]
    index.mark_evictions()  # 0 and 1 were evicted three generations ago: forgotten now
    assert [index.evicted_lately(f"https://a.example/{n}") for n in range(5)] == [False, False, True, False, False]
