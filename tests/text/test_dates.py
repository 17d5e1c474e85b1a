"""Table tests for crawler.text.dates: every printed form, labels, ISO values."""

from datetime import datetime, timedelta, timezone

import pytest

from crawler.text.dates import (
    KST,
    LabelledDate,
    find_labelled_dates,
    parse_iso_datetime,
    parse_korean_datetime,
    plausible_article_date,
    published_and_modified,
)


def k(*args: int) -> datetime:
    return datetime(*args, tzinfo=KST)


def test_kst_is_utc_plus_nine_without_dst() -> None:
    assert k(2020, 1, 1).utcoffset() == timedelta(hours=9)
    assert k(2020, 7, 1).utcoffset() == timedelta(hours=9)


BARE_FORMS = [
    # research notes / brief, as printed
    ("2019-08-23 19:01", k(2019, 8, 23, 19, 1)),
    ("2019-08-23 19:01:05", k(2019, 8, 23, 19, 1, 5)),
    ("2025.12.06 16:43", k(2025, 12, 6, 16, 43)),
    ("2025.12.07 09:10", k(2025, 12, 7, 9, 10)),
    ("2025.12.07 09:10:59", k(2025, 12, 7, 9, 10, 59)),
    ("2020.06.28", k(2020, 6, 28)),
    ("2020.06.28.", k(2020, 6, 28)),
    ("2020.06.28. 오전 9:03", k(2020, 6, 28, 9, 3)),
    ("2020.06.28. 오전 9:03:07", k(2020, 6, 28, 9, 3, 7)),
    ("2020년03월17일 08:02", k(2020, 3, 17, 8, 2)),
    ("2020년03월17일 08:02:30", k(2020, 3, 17, 8, 2, 30)),
    ("2020년 3월 17일 오후 8시 2분", k(2020, 3, 17, 20, 2)),
    ("2020년 3월 17일 오후 8시 2분 9초", k(2020, 3, 17, 20, 2, 9)),
    ("2020년 3월 17일 오전 8시", k(2020, 3, 17, 8, 0)),
    ("2020년 3월 17일", k(2020, 3, 17)),
    ("2020-06-28 오후 3:05", k(2020, 6, 28, 15, 5)),
    ("2020-06-28 오후 3:05:01", k(2020, 6, 28, 15, 5, 1)),
    ("2020/06/28 15:05", k(2020, 6, 28, 15, 5)),
    ("2020/06/28 15:05:44", k(2020, 6, 28, 15, 5, 44)),
    ("2020/06/28", k(2020, 6, 28)),
    ("2019-08-26", k(2019, 8, 26)),
    # variants seen in the same families
    ("2020.6.8 7:05", k(2020, 6, 8, 7, 5)),
    ("2020. 6. 28. 오후 3:05", k(2020, 6, 28, 15, 5)),
    ("2020-06-28(일) 15:05", k(2020, 6, 28, 15, 5)),
    ("2020.06.28 (일요일) 15:05", k(2020, 6, 28, 15, 5)),
    ("2020-06-28 PM 3:05", k(2020, 6, 28, 15, 5)),
    ("2020-06-28 am 9:05", k(2020, 6, 28, 9, 5)),
    ("2020년03월17일08:02", k(2020, 3, 17, 8, 2)),
    ("  2019-08-23 19:01  ", k(2019, 8, 23, 19, 1)),
    ("2019-08-23\u00a019:01", k(2019, 8, 23, 19, 1)),
    ("2024-02-29 00:00", k(2024, 2, 29, 0, 0)),
    ("2019-12-31 23:59:59", k(2019, 12, 31, 23, 59, 59)),
]


@pytest.mark.parametrize(("text", "expected"), BARE_FORMS)
def test_parse_korean_datetime_forms(text: str, expected: datetime) -> None:
    got = parse_korean_datetime(text)
    assert got == expected
    assert got is not None and got.tzinfo is KST


AMPM_EDGES = [
    ("2020-06-28 오전 12:00", k(2020, 6, 28, 0, 0)),
    ("2020-06-28 오전 12:30", k(2020, 6, 28, 0, 30)),
    ("2020-06-28 오전 0:30", k(2020, 6, 28, 0, 30)),
    ("2020-06-28 오전 1:00", k(2020, 6, 28, 1, 0)),
    ("2020-06-28 오전 11:59", k(2020, 6, 28, 11, 59)),
    ("2020-06-28 오후 12:00", k(2020, 6, 28, 12, 0)),
    ("2020-06-28 오후 12:59", k(2020, 6, 28, 12, 59)),
    ("2020-06-28 오후 1:00", k(2020, 6, 28, 13, 0)),
    ("2020-06-28 오후 11:59", k(2020, 6, 28, 23, 59)),
    ("2020년 6월 28일 오전 12시 5분", k(2020, 6, 28, 0, 5)),
    ("2020년 6월 28일 오후 12시", k(2020, 6, 28, 12, 0)),
    ("2020.06.28. 오전 12:00", k(2020, 6, 28, 0, 0)),
]


@pytest.mark.parametrize(("text", "expected"), AMPM_EDGES)
def test_ampm_twelve_hour_clock(text: str, expected: datetime) -> None:
    assert parse_korean_datetime(text) == expected


YEARLESS = [
    "06.28 15:05",
    "06-28 15:05",
    "6월 28일 오후 3:05",
    "3월 17일",
    "15:05",
    "오후 3:05",
    "20.06.28 15:05",  # two-digit year: never guessed
    "어제 15:05",
    "3시간 전",
]


@pytest.mark.parametrize("text", YEARLESS)
def test_yearless_returns_none(text: str) -> None:
    assert parse_korean_datetime(text) is None


INVALID = [
    "2020-13-01",
    "2020-00-10",
    "2020-02-30",
    "2019-02-29",
    "2020-06-31 10:00",
    "2020-06-28 25:00",
    "2020-06-28 24:00",
    "2020-06-28 10:60",
    "2020-06-28 10:59:60",
    "2020년 13월 1일",
    "2020년 6월 28일 오후 13시",
    "2020-06-28 오후 13:00",
    "2020-06-28 오후 0:30",
    "2020.06.32",
    "0219-08-23 19:01",
    "2019-08/23",  # mixed separators
    "12019-08-23",
    "2019-08-231",
    "2019-08-23 19:01 수정",  # trailing text: not a bare date
    "승인 2019-08-23 19:01",  # labelled: use find_labelled_dates
    "",
    "   ",
    "기사 본문입니다",
]


@pytest.mark.parametrize("text", INVALID)
def test_invalid_returns_none(text: str) -> None:
    assert parse_korean_datetime(text) is None


def test_non_string_returns_none() -> None:
    assert parse_korean_datetime(None) is None  # type: ignore[arg-type]


ISO_CASES = [
    ("2019-08-23T19:01:00+09:00", k(2019, 8, 23, 19, 1)),
    ("2019-08-23T10:01:00Z", k(2019, 8, 23, 19, 1)),
    ("2019-08-23T10:01:00+00:00", k(2019, 8, 23, 19, 1)),
    ("2019-08-23T15:31:00+05:30", k(2019, 8, 23, 19, 1)),
    ("2019-08-23T19:01:00", k(2019, 8, 23, 19, 1)),  # naive -> KST
    ("2019-08-23 19:01:00", k(2019, 8, 23, 19, 1)),  # naive, space -> KST
    ("2019-08-23T19:01", k(2019, 8, 23, 19, 1)),
    ("2019-08-23T19:01:00.000+0900", k(2019, 8, 23, 19, 1)),
    ("2019-08-23T19:01:00.123456+09:00", k(2019, 8, 23, 19, 1, 0, 123456)),
    ("2017-12-18T17:30:45+09:00", k(2017, 12, 18, 17, 30, 45)),
    ("2019-08-23T20:01:00+09:00", k(2019, 8, 23, 20, 1)),
    ("2019-12-31T16:30:00Z", k(2020, 1, 1, 1, 30)),  # crosses the date line into KST
    ("2019-08-23", k(2019, 8, 23)),
    ("  2019-08-23T19:01:00+09:00\n", k(2019, 8, 23, 19, 1)),
]


@pytest.mark.parametrize(("value", "expected"), ISO_CASES)
def test_parse_iso_datetime(value: str, expected: datetime) -> None:
    got = parse_iso_datetime(value)
    assert got == expected
    assert got is not None and got.tzinfo is KST
    assert got.replace(tzinfo=None) == expected.replace(tzinfo=None)  # wall time in KST


@pytest.mark.parametrize(
    "value",
    ["", "yesterday", "2019-W34", "2019-13-01T00:00:00", "2019-08-23T25:00:00", "2019.13.23 19:01", "0001-01-01"],
)
def test_parse_iso_datetime_rejects(value: str) -> None:
    assert parse_iso_datetime(value) is None


def test_parse_iso_utc_equals_offset_form() -> None:
    assert parse_iso_datetime("2019-08-23T10:01:00Z") == parse_iso_datetime("2019-08-23T19:01:00+09:00")
    assert parse_iso_datetime("2019-08-23T10:01:00Z") == datetime(2019, 8, 23, 10, 1, tzinfo=timezone.utc)


def ld(kind: str, label: str, value: datetime, raw: str, page: int | None = None) -> LabelledDate:
    return LabelledDate(kind=kind, label=label, value=value, page=page, raw=raw)


LABELLED = [
    (
        "승인 2019-08-23 19:01",
        [ld("published", "승인", k(2019, 8, 23, 19, 1), "승인 2019-08-23 19:01")],
    ),
    (
        "승인 2019-08-23 19:01 수정 2019-08-24 10:00 신문게재 2019-08-26 3면",
        [
            ld("published", "승인", k(2019, 8, 23, 19, 1), "승인 2019-08-23 19:01"),
            ld("modified", "수정", k(2019, 8, 24, 10, 0), "수정 2019-08-24 10:00"),
            ld("print", "신문게재", k(2019, 8, 26), "신문게재 2019-08-26 3면", page=3),
        ],
    ),
    (
        "입력 2025.12.06 16:43 수정 2025.12.07 09:10",
        [
            ld("published", "입력", k(2025, 12, 6, 16, 43), "입력 2025.12.06 16:43"),
            ld("modified", "수정", k(2025, 12, 7, 9, 10), "수정 2025.12.07 09:10"),
        ],
    ),
    (
        "업데이트 2025.12.07 09:10",
        [ld("modified", "업데이트", k(2025, 12, 7, 9, 10), "업데이트 2025.12.07 09:10")],
    ),
    (
        "기사입력 2020년03월17일 08:02",
        [ld("published", "기사입력", k(2020, 3, 17, 8, 2), "기사입력 2020년03월17일 08:02")],
    ),
    (
        "입력날짜 : 2020.06.28",
        [ld("published", "입력날짜", k(2020, 6, 28), "입력날짜 : 2020.06.28")],
    ),
    (
        "등록 2020-06-28 오후 3:05",
        [ld("published", "등록", k(2020, 6, 28, 15, 5), "등록 2020-06-28 오후 3:05")],
    ),
    (
        "입력 2020.06.28. 오전 9:03",
        [ld("published", "입력", k(2020, 6, 28, 9, 3), "입력 2020.06.28. 오전 9:03")],
    ),
    (
        "최종수정 2020-06-29 11:00:05",
        [ld("modified", "최종수정", k(2020, 6, 29, 11, 0, 5), "최종수정 2020-06-29 11:00:05")],
    ),
    (
        "기사수정 2020/06/29 11:00",
        [ld("modified", "기사수정", k(2020, 6, 29, 11, 0), "기사수정 2020/06/29 11:00")],
    ),
    (
        "게재 2020-06-28 15:05",
        [ld("published", "게재", k(2020, 6, 28, 15, 5), "게재 2020-06-28 15:05")],
    ),
    # separators: ":", ": ", "|", none
    ("입력:2020-06-28 15:05", [ld("published", "입력", k(2020, 6, 28, 15, 5), "입력:2020-06-28 15:05")]),
    ("입력 | 2020-06-28 15:05", [ld("published", "입력", k(2020, 6, 28, 15, 5), "입력 | 2020-06-28 15:05")]),
    ("입력2020-06-28 15:05", [ld("published", "입력", k(2020, 6, 28, 15, 5), "입력2020-06-28 15:05")]),
    ("수정 ： 2020-06-28 15:05", [ld("modified", "수정", k(2020, 6, 28, 15, 5), "수정 ： 2020-06-28 15:05")]),
    # print date: 신문게재 is print, never published; page optional
    ("신문게재 2019-08-26", [ld("print", "신문게재", k(2019, 8, 26), "신문게재 2019-08-26")]),
    ("신문 게재 2019-08-26 12면", [ld("print", "신문 게재", k(2019, 8, 26), "신문 게재 2019-08-26 12면", page=12)]),
    ("신문게재 2019.08.26 3 면", [ld("print", "신문게재", k(2019, 8, 26), "신문게재 2019.08.26 3 면", page=3)]),
    # the seed page's info line, bullets and reporter included
    (
        "• 승인 2019-08-23 19:01\n• 오희룡 기자오희룡 기자",
        [ld("published", "승인", k(2019, 8, 23, 19, 1), "승인 2019-08-23 19:01")],
    ),
    # NDSoft "infomation" skin list items run together
    (
        "기자명 홍길동 기자 입력 2020.06.28 15:05 수정 2020.06.28 16:10 댓글 0",
        [
            ld("published", "입력", k(2020, 6, 28, 15, 5), "입력 2020.06.28 15:05"),
            ld("modified", "수정", k(2020, 6, 28, 16, 10), "수정 2020.06.28 16:10"),
        ],
    ),
    # 2018-2020 NDSoft skin
    ("승인 2019.11.21 10:10", [ld("published", "승인", k(2019, 11, 21, 10, 10), "승인 2019.11.21 10:10")]),
]


@pytest.mark.parametrize(("text", "expected"), LABELLED)
def test_find_labelled_dates(text: str, expected: list[LabelledDate]) -> None:
    assert find_labelled_dates(text) == expected


NO_LABELLED = [
    "",
    "2019-08-23 19:01",  # no label
    "입력 06.28 15:05",  # yearless
    "수정 2020-13-01 10:00",  # impossible
    "등록금 2020-06-28 인상",  # "등록" inside a word, not followed by a date
    "세종시는 23일 산학연클러스터지원센터에서 워크숍을 진행했다.",
    "입력",
]


@pytest.mark.parametrize("text", NO_LABELLED)
def test_find_labelled_dates_none(text: str) -> None:
    assert find_labelled_dates(text) == []


def test_invalid_label_skipped_valid_ones_kept() -> None:
    got = find_labelled_dates("입력 2020-06-28 15:05 수정 2020-06-28 25:00 수정 2020-06-28 16:00")
    assert [(d.kind, d.value) for d in got] == [
        ("published", k(2020, 6, 28, 15, 5)),
        ("modified", k(2020, 6, 28, 16, 0)),
    ]


def test_labelled_date_is_frozen() -> None:
    d = find_labelled_dates("승인 2019-08-23 19:01")[0]
    with pytest.raises(AttributeError):
        d.kind = "modified"  # type: ignore[misc]


PUB_MOD = [
    ("승인 2019-08-23 19:01 수정 2019-08-24 10:00 신문게재 2019-08-26 3면", k(2019, 8, 23, 19, 1), k(2019, 8, 24, 10, 0)),
    ("입력 2025.12.06 16:43", k(2025, 12, 6, 16, 43), None),
    ("수정 2025.12.07 09:10", None, k(2025, 12, 7, 9, 10)),
    ("신문게재 2019-08-26 3면", None, None),
    ("입력 2020-01-01 09:00 입력 2020-01-02 09:00 수정 2020-01-03 09:00 수정 2020-01-04 09:00",
     k(2020, 1, 1, 9, 0), k(2020, 1, 4, 9, 0)),
    ("", None, None),
]


@pytest.mark.parametrize(("text", "published", "modified"), PUB_MOD)
def test_published_and_modified(text: str, published: datetime | None, modified: datetime | None) -> None:
    assert published_and_modified(text) == (published, modified)


# --- unlabelled search ------------------------------------------------------------------
from crawler.text.dates import find_datetimes  # noqa: E402


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026년 02월 24일(화) 19:00 가가", [datetime(2026, 2, 24, 19, 0, tzinfo=KST)]),
        ("| 2025.12.06 16:43 | 2025.12.07 09:10", [datetime(2025, 12, 6, 16, 43, tzinfo=KST), datetime(2025, 12, 7, 9, 10, tzinfo=KST)]),
        ("발행일 2020-06-28 오후 3:05 조회 1234", [datetime(2020, 6, 28, 15, 5, tzinfo=KST)]),
        ("조회수 2019 댓글 3", []),
        ("2020-13-45 10:00", []),
        ("06월 28일 15:05", []),
        ("", []),
    ],
)
def test_find_datetimes_without_labels(text, expected):
    assert find_datetimes(text) == expected


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("작성 2024.03.12 09:30", "published", datetime(2024, 3, 12, 9, 30, tzinfo=KST)),
        ("기사작성 : 2024-03-12 09:30", "published", datetime(2024, 3, 12, 9, 30, tzinfo=KST)),
        ("송고시간 2024-03-12 09:30", "published", datetime(2024, 3, 12, 9, 30, tzinfo=KST)),
        ("게시일 2024.03.12", "published", datetime(2024, 3, 12, tzinfo=KST)),
        ("최종 업데이트 2024.03.12 11:00", "modified", datetime(2024, 3, 12, 11, 0, tzinfo=KST)),
        ("입력 2019-08-23T19:01:00+09:00", "published", datetime(2019, 8, 23, 19, 1, tzinfo=KST)),
        ("입력 2019-08-23T10:01:00Z", "published", datetime(2019, 8, 23, 19, 1, tzinfo=KST)),
    ],
)
def test_more_labels_and_iso_after_a_label(text, kind, expected):
    found = find_labelled_dates(text)
    assert found and found[0].kind == kind and found[0].value == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2019.08.23 19:01", datetime(2019, 8, 23, 19, 1, tzinfo=KST)), ("2019-8-23 19:01", datetime(2019, 8, 23, 19, 1, tzinfo=KST))],
)
def test_meta_values_in_printed_forms(value, expected):
    assert parse_iso_datetime(value) == expected


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("발행 2019.01.16 13:59", "published", datetime(2019, 1, 16, 13, 59, tzinfo=KST)),
        ("기사승인 2019-01-16 13:59", "published", datetime(2019, 1, 16, 13, 59, tzinfo=KST)),
        ("입력일자 2019-01-16 13:59", "published", datetime(2019, 1, 16, 13, 59, tzinfo=KST)),
        ("송고일시 2019-01-16 13:59", "published", datetime(2019, 1, 16, 13, 59, tzinfo=KST)),
        ("수정일자 2019-01-17 09:00", "modified", datetime(2019, 1, 17, 9, 0, tzinfo=KST)),
        ("최종수정일 2019-01-17 09:00", "modified", datetime(2019, 1, 17, 9, 0, tzinfo=KST)),
        ("입력 2023.04.07 (08:26)", "published", datetime(2023, 4, 7, 8, 26, tzinfo=KST)),  # time in parentheses
    ],
)
def test_labels_of_other_sites(text, kind, expected):
    found = find_labelled_dates(text)
    assert [(d.kind, d.value) for d in found] == [(kind, expected)]


def test_plausible_article_date():
    now = datetime(2026, 12, 6, 12, 0, tzinfo=KST)
    assert plausible_article_date(datetime(2019, 1, 16, 13, 59, tzinfo=KST), now)
    assert plausible_article_date(now + timedelta(hours=20), now)  # a CMS clock ahead: tolerated
    assert not plausible_article_date(now + timedelta(days=3), now)  # the future
    assert not plausible_article_date(datetime(1988, 5, 15, tzinfo=KST), now)  # before web news
    assert not plausible_article_date(None, now)
