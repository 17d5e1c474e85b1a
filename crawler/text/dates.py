"""Korean news dates: printed forms, labelled info lines, and meta/JSON-LD values.

Why a hand-written table and not dateutil/dateparser: ``dateutil`` fuzzy parsing drops
오전/오후 and can pick the wrong year out of Korean strings, and ``dateparser`` returns None
for every label-prefixed form (승인/입력/수정/...) and is far slower per call than a few
compiled patterns. These functions run once or twice per article, so every pattern is
compiled once at import time.

Every printed time is Korea Standard Time (UTC+9, no DST); results are always aware and in
:data:`KST`. A form without a year returns None: guessing the year is how archives end up
with articles dated in the future.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "KST",
    "LabelledDate",
    "find_datetimes",
    "find_labelled_dates",
    "parse_iso_datetime",
    "parse_korean_datetime",
    "plausible_article_date",
    "published_and_modified",
]

KST = ZoneInfo("Asia/Seoul")

# Years outside this window are typos or template placeholders, never real article dates.
_MIN_YEAR = 1900
_MAX_YEAR = 2100

# --- date part: ordered table, first match wins (the separators make them exclusive) ----
# (?<!\d) / (?!\d) keep "12019-08-23" or "2019-08-231" from matching a piece of a number.
_DATE_FORMS: tuple[re.Pattern[str], ...] = (
    # 2019-08-23, 2020/06/28 (the same separator twice)
    re.compile(r"(?<!\d)(?P<y>\d{4})(?P<sep>[-/])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\d)"),
    # 2025.12.06, 2020.06.28., 2020. 6. 28. (Naver-style spaces after the dots)
    re.compile(r"(?<!\d)(?P<y>\d{4})\.\s?(?P<m>\d{1,2})\.\s?(?P<d>\d{1,2})(?!\d)\.?"),
    # 2020년03월17일, 2020년 3월 17일
    re.compile(r"(?<!\d)(?P<y>\d{4})\s?년\s?(?P<m>\d{1,2})\s?월\s?(?P<d>\d{1,2})\s?일"),
)

# Optional weekday after the date: "2020-06-28(일)", "2020.06.28 (화요일)".
_WEEKDAY = re.compile(r"\s?\(\s?[월화수목금토일](?:요일)?\s?\)")

_AMPM = r"(?:(?P<ap>오전|오후|AM|PM|am|pm|a\.m\.|p\.m\.)\s?)?"

# --- time part: ordered table, tried right after the date (leading whitespace optional) --
_TIME_FORMS: tuple[re.Pattern[str], ...] = (
    # (08:26) in parentheses after the date (KBS)
    re.compile(r"\s*\(\s*" + _AMPM + r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?\s*\)"),
    # 19:01, 19:01:05, 오후 3:05, 오전 9:03:10
    re.compile(r"\s*" + _AMPM + r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?!\d)"),
    # 오후 8시 2분, 8시, 8시 30분 15초
    re.compile(
        r"\s*"
        + _AMPM
        + r"(?P<H>\d{1,2})\s?시(?:\s?(?P<M>\d{1,2})\s?분)?(?:\s?(?P<S>\d{1,2})\s?초)?"
    ),
)


def _build(
    y: str, m: str, d: str, hh: str | None, mm: str | None, ss: str | None, ap: str | None
) -> datetime | None:
    """Turn matched digit groups into an aware KST datetime; None when impossible.

    The 12-hour clock is the one Korean pages print most often: 오전 12:xx is just after
    midnight, 오후 12:xx is just after noon, and 오후 13:00 is not a time at all.
    """
    year, month, day = int(y), int(m), int(d)
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return None
    hour = int(hh) if hh is not None else 0
    minute = int(mm) if mm is not None else 0
    second = int(ss) if ss is not None else 0
    if ap is not None:
        pm = ap in ("오후", "PM", "pm", "p.m.")
        if pm:
            if not 1 <= hour <= 12:
                return None
            if hour != 12:
                hour += 12
        else:
            if not 0 <= hour <= 12:
                return None
            if hour == 12:
                hour = 0
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=KST)
    except ValueError:  # month 13, 2월 30일, 25:00, 10:61 ...
        return None


_ISO_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")


def _match_at(text: str, pos: int) -> tuple[datetime | None, int] | None:
    """Match one printed date (+ optional weekday and time) starting exactly at ``pos``.

    Returns (value, end) where value is None for a well-formed but impossible date, or
    None when nothing date-like starts at ``pos``. Shared by the bare parser and the label
    scanner so both accept exactly the same forms. An ISO 8601 value printed after a label
    (``입력 2019-08-23T19:01:00+09:00``) keeps its time and zone.
    """
    im = _ISO_AT.match(text, pos)
    if im is not None:
        return parse_iso_datetime(im.group(0)), im.end()
    for date_rx in _DATE_FORMS:
        dm = date_rx.match(text, pos)
        if dm is None:
            continue
        end = dm.end()
        wm = _WEEKDAY.match(text, end)
        if wm is not None:
            end = wm.end()
        hh = mm = ss = ap = None
        for time_rx in _TIME_FORMS:
            tm = time_rx.match(text, end)
            if tm is not None:
                hh, mm, ss, ap = tm.group("H"), tm.group("M"), tm.group("S"), tm.group("ap")
                end = tm.end()
                break
        value = _build(dm.group("y"), dm.group("m"), dm.group("d"), hh, mm, ss, ap)
        return value, end
    return None


_YEAR_START = re.compile(r"(?<!\d)(?:19|20)\d{2}(?=\s?[-/.년])")


def find_datetimes(text: str) -> list[datetime]:
    """Every printed date/time in ``text``, in order, with or without a label before it.

    For info lines that print the date bare (광주일보: ``2026년 02월 24일(화) 19:00``): the
    label-first scanner finds nothing there. Same forms as the other parsers; impossible
    dates are skipped, years are never guessed.
    """
    if not isinstance(text, str) or not text:
        return []
    found: list[datetime] = []
    pos = 0
    while True:
        ym = _YEAR_START.search(text, pos)
        if ym is None:
            return found
        matched = _match_at(text, ym.start())
        if matched is None:
            pos = ym.end()
            continue
        value, end = matched
        if value is not None:
            found.append(value)
        pos = max(end, ym.end())


def parse_korean_datetime(text: str) -> datetime | None:
    """Parse a bare printed date/time (no label) into an aware KST datetime.

    The whole string must be the date: "승인 2019-08-23 19:01" returns None here because
    labels carry meaning (published vs modified) that only :func:`find_labelled_dates`
    keeps. A date without a time is midnight KST.
    """
    if not isinstance(text, str):
        return None
    s = text.strip()
    if not s:
        return None
    found = _match_at(s, 0)
    if found is None:
        return None
    value, end = found
    if end != len(s):
        return None
    return value


# ISO-ish values from meta tags / JSON-LD; fromisoformat (3.11) does the real work, this
# guard only keeps out week dates ("2019-W34") and ordinal dates it would also accept.
_ISO_GUARD = re.compile(r"\d{4}-?\d{2}-?\d{2}(?:[T ]|$)")


def parse_iso_datetime(value: str) -> datetime | None:
    """Parse a meta-tag / JSON-LD timestamp and return it converted to KST.

    Values without a zone ("2019-08-23T19:01:00", "2019-08-23 19:01:00") are taken as KST,
    because Korean CMSes write local time and simply omit the offset; "Z" and explicit
    offsets are honoured and converted.
    """
    if not isinstance(value, str):
        return None
    s = value.strip()
    if not _ISO_GUARD.match(s):
        # Some CMSs put a printed form in their meta tags (`2019.08.23 19:01`, `2019-8-23 ...`)
        return parse_korean_datetime(s)
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if not _MIN_YEAR <= dt.year <= _MAX_YEAR:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=KST)
    return dt.astimezone(KST)


# --- labelled dates ----------------------------------------------------------------------

PUBLISHED = "published"
MODIFIED = "modified"
PRINT = "print"

# Label (whitespace removed) -> kind. 신문게재/지면게재 are print-edition dates, not
# publication: they must be listed so the scanner never reads their 게재 as "published".
_LABEL_KINDS: dict[str, str] = {
    "신문게재": PRINT,
    "지면게재": PRINT,
    "기사입력": PUBLISHED,
    "기사승인": PUBLISHED,
    "입력일자": PUBLISHED,
    "등록일자": PUBLISHED,
    "발행일자": PUBLISHED,
    "작성일자": PUBLISHED,
    "게재일자": PUBLISHED,
    "송고일시": PUBLISHED,
    "발행일시": PUBLISHED,
    "수정일자": MODIFIED,
    "수정시간": MODIFIED,
    "최종수정일": MODIFIED,
    "입력날짜": PUBLISHED,
    "입력일시": PUBLISHED,
    "입력시간": PUBLISHED,
    "최초입력": PUBLISHED,
    "기사등록": PUBLISHED,
    "등록일시": PUBLISHED,
    "등록일": PUBLISHED,
    "입력일": PUBLISHED,
    "승인": PUBLISHED,
    "입력": PUBLISHED,
    "등록": PUBLISHED,
    "게재": PUBLISHED,
    "기사작성": PUBLISHED,
    "작성일시": PUBLISHED,
    "작성일": PUBLISHED,
    "작성": PUBLISHED,
    "송고시간": PUBLISHED,
    "송고": PUBLISHED,
    "게시일": PUBLISHED,
    "게시": PUBLISHED,
    "발행일": PUBLISHED,
    "발행": PUBLISHED,
    "최종수정": MODIFIED,
    "최종업데이트": MODIFIED,
    "기사수정": MODIFIED,
    "수정일시": MODIFIED,
    "수정일": MODIFIED,
    "업데이트": MODIFIED,
    "수정": MODIFIED,
}


def _label_alternation() -> str:
    """Longest labels first, each allowing one optional space between its two words.

    The regex engine takes the leftmost match and, at one position, the first
    alternative, so "신문게재"/"최종수정" win over "게재"/"수정" by being listed first.
    """
    parts = []
    for label in sorted(_LABEL_KINDS, key=len, reverse=True):
        if len(label) == 4:
            parts.append(re.escape(label[:2]) + r"\s?" + re.escape(label[2:]))
        else:
            parts.append(re.escape(label))
    return "|".join(parts)


# Label, then optional separators: spaces, ":", "：", "|", "｜" ("입력 : 2020.06.28").
_LABEL_RX = re.compile(r"(?P<label>" + _label_alternation() + r")\s*(?:[:：|｜]\s*)?")
# Print page after the 신문게재 date: "2019-08-26 3면".
_PAGE_RX = re.compile(r"\s*(?P<page>\d{1,3})\s?면")


@dataclass(frozen=True)
class LabelledDate:
    """One label + date as printed on the page, e.g. ``수정 2019-08-24 10:00``.

    ``label`` is the Korean label as printed (spaces included), ``raw`` the whole matched
    text; both are kept so an extraction can be audited against the page.
    """

    kind: str
    label: str
    value: datetime
    page: int | None
    raw: str


def find_labelled_dates(text: str) -> list[LabelledDate]:
    """Find every label+date in ``text`` (an info line may hold several), in order.

    Labels are recognised first and the date must follow directly (after optional
    separators); a label followed by no date, a yearless date or an impossible date is
    skipped rather than guessed.
    """
    if not isinstance(text, str) or not text:
        return []
    out: list[LabelledDate] = []
    pos = 0
    n = len(text)
    while pos < n:
        lm = _LABEL_RX.search(text, pos)
        if lm is None:
            break
        found = _match_at(text, lm.end())
        value, end = found if found is not None else (None, 0)
        if value is None:
            # No date, or an impossible one, after this label: look again one character on.
            pos = lm.start("label") + 1
            continue
        label = lm.group("label")
        kind = _LABEL_KINDS["".join(label.split())]
        page = None
        if kind == PRINT:
            pm = _PAGE_RX.match(text, end)
            if pm is not None:
                page = int(pm.group("page"))
                end = pm.end()
        out.append(
            LabelledDate(
                kind=kind,
                label=label,
                value=value,
                page=page,
                raw=text[lm.start():end].rstrip(),
            )
        )
        pos = end
    return out


def published_and_modified(text: str) -> tuple[datetime | None, datetime | None]:
    """(first published, last modified) found in ``text``; either may be None.

    First published because pages that list several 입력 times put the original first;
    last modified because each later 수정 supersedes the earlier ones.
    """
    published: datetime | None = None
    modified: datetime | None = None
    for ld in find_labelled_dates(text):
        if ld.kind == PUBLISHED and published is None:
            published = ld.value
        elif ld.kind == MODIFIED:
            modified = ld.value
    return published, modified


# Korean papers went online in the mid-1990s: an earlier "article" date on a web page is a
# founding date, a registration date or a typo.
EARLIEST_WEB_ARTICLE = datetime(1990, 1, 1, tzinfo=KST)
CLOCK_SKEW = timedelta(days=1)


def plausible_article_date(value: datetime | None, now: datetime | None = None) -> bool:
    """Could `value` be when a web article was published or corrected?

    Not before 1990 and not later than `now` (default: the current time) plus a day of skew
    (a CMS clock, a page stamped in another zone). `now` is a parameter so a page extracted
    again later is judged against when it was fetched.
    """
    if value is None:
        return False
    now = now or datetime.now(KST)
    return EARLIEST_WEB_ARTICLE <= value <= now + CLOCK_SKEW
