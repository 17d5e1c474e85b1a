"""A lookup compares at most MAX_COMPARED candidates closely: those sharing the most LSH
bands with the new article, so a copy is still found among many chance neighbours."""

from __future__ import annotations

import random

import pytest

from crawler.dedup import index as index_module
from crawler.dedup.index import StoryIndex
from crawler.dedup.stories import signature

WIRE = ("광주시는 14일 시청 브리핑룸에서 도시철도 2호선 1단계 구간을 내년 6월 개통한다고 밝혔다. "
        "1단계 구간은 시청에서 광주역까지 17.06㎞로, 정거장 20곳이 들어선다. "
        "시는 지금까지 사업비 1조2천억원 가운데 8천640억원을 집행했으며 공정률은 78%라고 설명했다. "
        "개통에 앞서 4월부터 두 달 동안 시운전을 하고, 시민 체험단 300명을 모집해 안전 점검을 함께 한다.")
TITLE = "광주 도시철도 2호선 1단계 내년 6월 개통"
SHARED = "시는 지금까지 사업비 1조2천억원 가운데 8천640억원을 집행했으며 공정률은 78%라고 설명했다."


def words(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join("".join(chr(0xAC00 + rng.randrange(11172)) for _ in range(rng.randint(2, 5)))
                    + ("다." if i % 9 == 8 else "") for i in range(n))


def neighbour(n: int):
    """Another story that happens to print one sentence of the wire copy: a chance neighbour
    in the LSH (a band or two), not a copy."""
    return signature(f"{words(40, n)} {SHARED} {words(40, 5000 + n)}", f"다른 기사 {n}")


def crowd(neighbours: int) -> StoryIndex:
    """The wire story amid `neighbours` chance neighbours, half stored before it, half after
    (so neither the oldest nor the newest candidates are the copy)."""
    index = StoryIndex()
    for n in range(neighbours):
        if n == neighbours // 2:
            index.assign("https://wire.example/original", signature(WIRE, TITLE))
        index.assign(f"https://other.example/{n}", neighbour(n))
    return index


@pytest.fixture
def crowded() -> StoryIndex:
    return crowd(200)


def chance_neighbours(index: StoryIndex) -> int:
    return len(index.candidates(signature(WIRE + " 시 관계자는 이같이 말했다.", TITLE)))


def test_a_copy_is_found_among_more_neighbours_than_are_compared(crowded, monkeypatch):
    copy = signature(WIRE + " 시 관계자는 이같이 말했다.", TITLE)
    candidates = chance_neighbours(crowded)
    cap = 3
    assert candidates > cap, "the test needs more candidates than the cap"
    monkeypatch.setattr(index_module, "MAX_COMPARED", cap)
    before, capped = crowded.compared, crowded.capped
    found = crowded.find(copy)
    assert found is not None and found[0] == "https://wire.example/original"
    assert crowded.compared - before == cap and crowded.capped == capped + 1


def test_below_the_cap_every_candidate_is_compared():
    crowded = crowd(15)
    copy = signature(WIRE + " 시 관계자는 이같이 말했다.", TITLE)
    candidates = chance_neighbours(crowded)
    assert candidates <= index_module.MAX_COMPARED
    before, capped = crowded.compared, crowded.capped
    assert crowded.find(copy)[0] == "https://wire.example/original"
    assert crowded.compared - before == candidates and crowded.capped == capped
