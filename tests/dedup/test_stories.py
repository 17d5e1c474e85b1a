"""Story signatures: what cleaning removes, how two copies compare, the index and its bytes.

The Korean examples are written for these tests (a fictional Gwangju metro story, its desk
rewrite, a follow-up two days later, two editions of a weather brief)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash

from crawler.dedup import stories
from crawler.dedup.index import StoryIndex, band_keys
from crawler.dedup.stories import (
    HeldRecord,
    Probe,
    StoryRecord,
    compare,
    from_bytes,
    held,
    is_stale,
    minhash_values,
    other_day,
    new_story_id,
    pack_held,
    signature,
    story_codes,
    to_bytes,
    unpack_held,
)
from crawler.text.fingerprint import (
    drop_captions,
    drop_emails,
    lead_days,
    normalize_figures,
    squash,
    squashed_sentences,
    story_clean,
    story_sentences,
    strip_lead,
    text_days,
)

WIRE = "\n\n".join([
    "[광주=뉴시스] 박지민 기자 = 광주시는 14일 시청 브리핑룸에서 도시철도 2호선 1단계 구간을 내년 6월 개통한다고 밝혔다.",
    "1단계 구간은 시청에서 광주역까지 17.06㎞로, 정거장 20곳이 들어선다.",
    "시는 지금까지 사업비 1조2천억원 가운데 8천640억원을 집행했으며 공정률은 78%라고 설명했다.",
    "개통에 앞서 4월부터 두 달 동안 시운전을 하고, 시민 체험단 300명을 모집해 안전 점검을 함께 한다.",
    "한상우 시장은 \"공사 기간 불편을 참아준 시민들께 감사드린다\"며 \"안전한 개통을 위해 마지막까지 점검하겠다\"고 말했다.",
    "시는 2단계 구간 착공을 위해 올해 하반기 기본계획 변경 절차도 밟을 예정이다.",
    "jmpark@newsis.com",
])
WIRE_TITLE = "광주 도시철도 2호선 1단계 내년 6월 개통…공정률 78%"

# the same release, reworded sentence by sentence by another desk
REWRITE = "\n\n".join([
    "광주시가 도시철도 2호선 1단계 구간을 내년 6월 개통한다고 14일 밝혔다.",
    "시청∼광주역 17.06㎞ 구간에는 모두 20곳의 정거장이 들어선다.",
    "전체 사업비 1조2천억원 가운데 8640억원이 집행됐고 공정률은 78%에 이른다고 시는 설명했다.",
    "시는 개통 전 4월부터 두 달 동안 시운전을 진행하고 시민 체험단 300명을 모집해 안전 점검을 함께 할 계획이다.",
    "한상우 시장은 \"공사 기간 불편을 감내해 준 시민들께 감사드린다\"며 \"안전한 개통을 위해 끝까지 점검하겠다\"고 강조했다.",
    "2단계 구간 착공을 위한 기본계획 변경 절차도 올해 하반기 진행된다.",
    "홍길동 기자",
])
REWRITE_TITLE = "도시철도 2호선 1단계 내년 6월 개통…사업비 8640억원 집행"

# two days later: a new lead about a new fact, the background carried over verbatim
FOLLOW_UP = "\n\n".join([
    "광주시는 16일 도시철도 2호선 1단계 구간의 시운전을 한 달 앞당겨 3월부터 시작한다고 밝혔다.",
    "시는 신호 시스템 검증이 예상보다 빨리 끝나 시운전 기간을 석 달로 늘릴 수 있게 됐다고 설명했다.",
    "1단계 구간은 시청에서 광주역까지 17.06㎞로, 정거장 20곳이 들어선다.",
    "시는 지금까지 사업비 1조2천억원 가운데 8천640억원을 집행했으며 공정률은 78%라고 설명했다.",
    "시는 2단계 구간 착공을 위해 올해 하반기 기본계획 변경 절차도 밟을 예정이다.",
])
FOLLOW_UP_TITLE = "광주 도시철도 2호선 시운전 3월로 앞당긴다"

WEATHER = ("15일 광주·전남은 고기압의 영향으로 대체로 맑겠다. 아침 최저기온은 3∼7도, 낮 최고기온은 14∼18도로 "
           "평년보다 조금 높겠다. 미세먼지 농도는 '보통' 수준을 보이겠다. 바다의 물결은 0.5∼1.5m로 일겠다.")
WEATHER_NEXT = ("16일 광주·전남은 고기압의 영향으로 대체로 맑겠다. 아침 최저기온은 5∼9도, 낮 최고기온은 16∼20도로 "
                "평년보다 조금 높겠다. 미세먼지 농도는 '보통' 수준을 보이겠다. 바다의 물결은 1.0∼2.0m로 일겠다.")


def filler(n: int, seed: int = 3) -> str:
    """Made-up Korean-looking words: distinct 5-grams that share nothing with the story."""
    rng = random.Random(seed)
    words = ["".join(chr(0xAC00 + rng.randrange(11172)) for _ in range(rng.randint(2, 5))) for _ in range(n)]
    return " ".join(w + ("다." if i % 9 == 8 else "") for i, w in enumerate(words))


# -- cleaning ------------------------------------------------------------------------------


def test_leads_tags_and_glued_captions_are_stripped() -> None:
    assert strip_lead("[경남일보=김철수 기자] 창원시가 15일 새해 업무계획을 발표했다.") == "창원시가 15일 새해 업무계획을 발표했다."
    assert strip_lead("(목포=뉴스1) 이영희 기자 = 목포시가 15일 새해 업무계획을 발표했다.") == "목포시가 15일 새해 업무계획을 발표했다."
    lead = "청주시는 15일 흥덕구 복대동에 시립도서관 분관을 열고 시민들에게 개방했다고 밝혔다."
    glued = "시민들이 새로 문을 연 도서관을 둘러보고 있다. 연합뉴스 " + lead
    assert strip_lead(glued) == lead
    credit_first = "(사진=청주시 제공) " + lead
    assert strip_lead(credit_first).startswith("청주시는")
    # a lead that merely cites a wire service keeps its text
    cited = "청주시는 15일 분관을 열었다. 연합뉴스에 따르면 이용객은 첫날 2천명을 넘었다."
    assert strip_lead(cited) == cited


def test_captions_inside_the_text_go_but_sentences_before_a_credit_stay() -> None:
    text = "분관은 3층 규모다. 분관 열람실 모습. 청주시 제공 열람실에는 좌석 120석이 있다."
    assert drop_captions(text) == "분관은 3층 규모다. 열람실에는 좌석 120석이 있다."
    sentence = "공사는 지난달 끝났다. 청주시 제공 자료에 따르면 사업비는 40억원이다."
    assert drop_captions(sentence) == sentence


def test_trailers_emails_and_figures() -> None:
    body = "\n\n".join([
        "청주시는 15일 시립도서관 분관을 개관했다고 밝혔다. 분관은 3층 규모로 좌석 120석을 갖췄다.",
        "시는 올해 분관 두 곳을 더 열 계획이다. 김민수 기자 minsu@example.co.kr",
        "다른기사보기 청주시, 봄꽃 축제 준비 착착",
    ])
    clean = story_clean(body)
    assert "다른기사보기" not in clean and "봄꽃" not in clean and "@" not in clean
    assert "분관 두 곳을 더 열 계획이다" in clean
    # the same marker early in the text is story, not page furniture
    early = "다른기사보기 버튼을 없앤 포털의 개편안에 대해 언론사들은 반발했다. 개편은 다음 달 시행된다."
    assert "다른기사보기" in story_clean(early)
    assert drop_emails("문의는 info@city.go.kr 로 하면 된다.") == "문의는   로 하면 된다."
    assert normalize_figures("사업비 1조2천억원 중 8천640억원, 13,500명, 1만1680원, 5만 명, 1.5천") == (
        "사업비 1조2000억원 중 8640억원, 13500명, 11680원, 5만 명, 1.5천")


def test_sentences_days_and_story_codes_agree() -> None:
    clean = story_clean(WIRE)
    sentences = story_sentences(clean)
    assert sentences[0].startswith("광주시는 14일") and len(sentences) == 6
    assert squashed_sentences(clean) == [squash(s) for s in sentences]
    codes, starts = story_codes(clean)
    assert codes.tobytes().decode("utf-32-le") == "".join(squashed_sentences(clean))
    assert starts == np.cumsum([0] + [len(s) for s in squashed_sentences(clean)][:-1]).tolist()
    assert lead_days(WIRE_TITLE, clean) == frozenset({14})
    assert lead_days("[오늘의 날씨] 3월 15일", story_clean(WEATHER)) == frozenset({15})


# -- signature and comparison ----------------------------------------------------------------


def test_minhash_values_are_datasketch_affine32() -> None:
    hashes = np.random.default_rng(1).integers(0, 2**32, size=300, dtype=np.uint32)
    expected = MinHash(num_perm=stories.NUM_PERM, hashfunc=int, permutations=stories._permutations(stories.NUM_PERM),
                       scheme=stories.SCHEME)
    expected.update_batch(hashes.tolist())
    assert np.array_equal(minhash_values(hashes), expected.hashvalues)


def test_a_desk_rewrite_is_the_same_story_by_its_paraphrase_share() -> None:
    wire, rewrite = signature(WIRE, WIRE_TITLE), signature(REWRITE, REWRITE_TITLE)
    found = compare(wire.record, rewrite.record)
    assert not found.other_day and found.numbers >= 0.5
    assert found.paraphrase > 0.3  # most sentences partly shared: a rewrite, not a new story
    index = StoryIndex()
    assert index.same_story(wire.record, rewrite.record) is not None
    # without the sentence-level evidence the words alone would not have been enough
    assert found.containment + stories.TITLE_WEIGHT * found.title < index.threshold


def test_a_follow_up_with_verbatim_background_is_another_story() -> None:
    wire, follow = signature(WIRE, WIRE_TITLE), signature(FOLLOW_UP, FOLLOW_UP_TITLE)
    found = compare(wire.record, follow.record)
    assert found.containment > 0.4 and found.other_day  # 14일 vs 16일 in the leads
    assert StoryIndex().same_story(wire.record, follow.record) is None


def dated(text: str) -> StoryRecord:
    """A record with only the days of `text` (what other_day looks at)."""
    clean = story_clean(text)
    return StoryRecord(0, b"", b"", b"", b"", stories._day_mask(lead_days("", clean)),
                       stories._day_mask(text_days("", clean)))


def test_leads_naming_different_days_of_one_story_are_not_two_reports() -> None:
    announced = dated("충북도는 14일 오는 20일 청주에서 유기농 박람회가 개막한다고 밝혔다. 박람회는 닷새 동안 열린다.")
    opening = dated("유기농 박람회가 20일 청주에서 개막한다. 충북도가 14일 밝힌 계획에 따르면 박람회는 닷새 동안 열린다.")
    assert not other_day(announced, opening)  # each lead's day appears in the other text
    next_day = dated("유기농 박람회 이틀째인 21일 관람객 3만명이 몰렸다. 주차장이 가득 차 일부 관람객은 임시 주차장을 "
                     "이용했다. 박람회는 20일 개막해 닷새 동안 열린다.")
    assert other_day(opening, next_day)  # 21일 is news the first report never had


def test_daily_editions_differ_by_their_numbers_and_days() -> None:
    today, tomorrow = signature(WEATHER, "[날씨] 15일 맑음"), signature(WEATHER_NEXT, "[날씨] 16일 맑음")
    found = Probe(today.record).compare(tomorrow.record)
    assert found.containment > 0.5 and found.numbers < 0.5 and found.other_day
    assert Probe(today.record).vetoed(tomorrow.record)
    assert StoryIndex().same_story(today.record, tomorrow.record) is None


def test_a_short_cut_is_found_through_the_lead_minhash() -> None:
    long_text = WIRE + "\n\n" + filler(700)
    full, cut = signature(long_text, WIRE_TITLE), signature(WIRE, WIRE_TITLE)
    assert full.lead is not None and cut.lead is None
    assert full.minhash.jaccard(cut.minhash) < 0.3 < full.lead.jaccard(cut.minhash)
    index = StoryIndex()
    index.assign("https://a.example/cut", cut)
    assert 0 in index.candidates(full)
    match = index.assign("https://b.example/full", full)
    assert match.story_id == index.stories["https://a.example/cut"] and match.similarity > 0.9


def test_unrelated_and_too_short_texts() -> None:
    assert signature("짧은 사진 설명.") is None
    index = StoryIndex()
    first = index.assign("https://a.example/1", signature(WIRE, WIRE_TITLE))
    other = index.assign("https://a.example/2", signature(filler(120, seed=9), "다른 기사"))
    assert first.similarity is None and other.similarity is None and other.story_id != first.story_id
    again = index.assign("https://a.example/1", signature(REWRITE, REWRITE_TITLE))
    assert again.story_id == first.story_id and again.similarity is None  # a recrawl keeps its story


# -- index and stored bytes -----------------------------------------------------------------


def test_band_keys_of_one_minhash_are_found_once_per_band() -> None:
    sig = signature(WIRE, WIRE_TITLE)
    keys = band_keys(sig.minhash.hashvalues)
    assert keys.dtype == np.uint32 and len(keys) == stories.LSH_BANDS[0] and len(set(keys.tolist())) == len(keys)
    index = StoryIndex()
    index.add("https://a.example/1", sig, "s1")
    index.add("https://a.example/2", sig, "s2")
    assert index.candidates(sig) == {0, 1}
    other = signature(filler(300, seed=5), "다른 기사")
    assert index.candidates(other) == set()


def test_signature_bytes_round_trip_and_old_versions_are_counted() -> None:
    sig = signature(WIRE, WIRE_TITLE)
    data = to_bytes(sig)
    minhash, record = from_bytes(data)
    assert np.array_equal(minhash.hashvalues, sig.minhash.hashvalues)
    assert (record.samples, record.starts, record.numbers, record.grams, record.lead_days, record.days, record.size) == (
        sig.record.samples, sig.record.starts, sig.record.numbers, sig.record.grams, sig.record.lead_days,
        sig.record.days, sig.record.size)
    with pytest.raises(ValueError, match="header says"):
        from_bytes(data[:-1])
    version_1 = np.zeros(64, dtype=np.uint32).tobytes()  # the bare MinHash stored before
    with pytest.raises(ValueError, match="version 1"):
        from_bytes(version_1)
    with pytest.raises(ValueError, match="version 9"):
        from_bytes(data[:2] + bytes([9]) + data[3:])
    assert is_stale(version_1) and not is_stale(data) and not is_stale(b"garbage")
    index = StoryIndex()
    rows = [{"canonical_url": "https://a.example/1", "minhash": data, "story_id": "s1"},
            {"canonical_url": "https://a.example/2", "minhash": version_1, "story_id": "s2"},
            {"canonical_url": "https://a.example/3", "minhash": b"\x00" * 10, "story_id": "s3"}]
    assert index.load(rows) == 1 and (index.stale, index.skipped) == (1, 1)
    match = index.assign("https://b.example/1", signature(REWRITE, REWRITE_TITLE))
    assert match.story_id == "s1" and match.closest_url == "https://a.example/1"


def test_the_index_holds_records_as_packed_16_bit_fingerprints() -> None:
    sig = signature(WIRE, WIRE_TITLE)
    record = held(sig.record)
    assert isinstance(record, HeldRecord) and held(record) is record
    whole = np.frombuffer(sig.record.samples, dtype=np.uint32)
    assert (whole & 3 == 0).all()  # the sample's low bits say nothing: the fingerprint starts above them
    assert np.frombuffer(record.samples, dtype=np.uint16).tolist() == ((whole >> 2) & 0xFFFF).tolist()
    packed = pack_held(sig.record)
    assert len(packed) == 20 + len(sig.record.samples) // 2 + len(sig.record.starts) + len(sig.record.numbers) + len(
        sig.record.grams)
    again = unpack_held(packed)
    assert (bytes(again.samples), bytes(again.starts), bytes(again.numbers), bytes(again.grams)) == (
        record.samples, record.starts, record.numbers, record.grams)
    assert (again.size, again.lead_days, again.days) == (sig.record.size, sig.record.lead_days, sig.record.days)
    assert pack_held(again) == packed


def test_held_records_compare_as_whole_ones_do_and_kinds_do_not_mix() -> None:
    pairs = [(WIRE, WIRE_TITLE, REWRITE, REWRITE_TITLE), (WIRE, WIRE_TITLE, FOLLOW_UP, FOLLOW_UP_TITLE),
             (WEATHER, "[날씨] 15일 맑음", WEATHER_NEXT, "[날씨] 16일 맑음"),
             (WIRE + "\n\n" + filler(700), WIRE_TITLE, WIRE, WIRE_TITLE)]
    index = StoryIndex()
    for a_text, a_title, b_text, b_title in pairs:
        a, b = signature(a_text, a_title).record, signature(b_text, b_title).record
        whole, small = compare(a, b), compare(held(a), held(b))
        # a chance meeting of fingerprints reads high, by at most the longer text's samples / 65536
        bound = max(len(a.samples), len(b.samples)) // 4 / 65536
        assert whole.containment <= small.containment <= whole.containment + bound + 1e-9
        assert (small.title, small.numbers, small.other_day) == (whole.title, whole.numbers, whole.other_day)
        assert (index.same_story(a, b) is None) == (index.same_story(a, held(b)) is None)
    with pytest.raises(ValueError, match="held"):
        Probe(signature(WIRE, WIRE_TITLE).record).compare(held(signature(REWRITE, REWRITE_TITLE).record))


def test_a_first_copys_story_id_is_computed_not_held() -> None:
    from crawler.dedup.index import _OWN_ID

    index = StoryIndex()
    first = index.assign("https://a.example/1", signature(WIRE, WIRE_TITLE))
    copy = index.assign("https://b.example/1", signature(REWRITE, REWRITE_TITLE))
    assert first.story_id == new_story_id("https://a.example/1") == copy.story_id
    segment = index.segments[0]
    assert segment.story_ids == [_OWN_ID, first.story_id]  # the copy's id is not its own URL's
    assert index.stories == {"https://a.example/1": first.story_id, "https://b.example/1": first.story_id}
    index.add("https://a.example/1", None, "s-merged")  # an id given later replaces the computed one
    assert index.story_of("https://a.example/1") == "s-merged"
