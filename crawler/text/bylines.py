"""Korean reporter bylines, dateline regions and wire-copy leads.

Why this matters: the byline gives the reporter (an author field), the ``지역=`` prefix
gives the dateline region, and a wire lead (``[대전=뉴시스] 김양수 기자 =``) marks copy
that is reprinted across many regional papers and must later be recognised as one story.
The trailer (``세종=오희룡 기자 huily@``) also has to be cut from the body text.

The parser is deliberately strict: a string is a byline only when *all* of it fits the
grammar (lead, region/role prefix, names + title, emails, trailing ``=``). A sentence that
merely mentions a reporter ("이 자리에서 김 기자는 ...") leaves unexplained text and is
rejected, which is what lets :func:`is_byline_line` strip trailers safely.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

__all__ = ["WIRE_AGENCIES", "Byline", "is_byline_line", "parse_byline", "parse_signoff", "strip_wire_lead"]


@dataclass
class Byline:
    """Who wrote a story and where it was filed from.

    ``authors`` are bare names (no titles, no emails), deduplicated in printed order;
    ``region`` is the dateline (세종 in ``세종=오희룡 기자``); ``wire`` is the agency for
    wire copy or "보도자료" for a press release; ``emails`` keeps addresses as printed,
    including ones the site truncated to ``huily@``.
    """

    authors: list[str]
    region: str | None = None
    wire: str | None = None
    emails: list[str] = field(default_factory=list)


# Spelling variants -> canonical agency name. Only these count as "wire": a bracket lead
# naming the paper itself ("[대전=중도일보]") gives a region but no wire.
WIRE_AGENCIES: dict[str, str] = {
    "뉴시스": "뉴시스",
    "NEWSIS": "뉴시스",
    "연합뉴스": "연합뉴스",
    "연합": "연합뉴스",
    "YONHAP": "연합뉴스",
    "뉴스1": "뉴스1",
    "NEWS1": "뉴스1",
    "보도자료": "보도자료",
}

# Titles, longest first so "선임기자" is one title and never name + "기자".
_TITLES = (
    "객원논설위원",
    "선임기자",
    "수습기자",
    "객원기자",
    "전문기자",
    "인턴기자",
    "사진기자",
    "영상기자",
    "취재기자",
    "명예기자",
    "시민기자",
    "논설위원",
    "논설실장",
    "편집위원",
    "전문위원",
    "대기자",
    "특파원",
    "통신원",
    "에디터",
    "리포터",
    "기자",
)
_TITLE = "(?:" + "|".join(_TITLES) + ")"

# Korean names are 2-4 Hangul syllables. A name must not itself start a title (so the
# "선임" of "홍길동 선임기자" is not read as a second reporter) and must end at a non-Hangul
# character or directly before a title ("오희룡기자").
_NAME = r"(?!" + _TITLE + r")[가-힣]{2,4}(?=[^가-힣]|$|" + _TITLE + r")"
_NAME_SEP = r"\s*[·ㆍ・,/&]\s*"
_CREDIT_RX = re.compile(
    r"(?P<names>" + _NAME + r"(?:(?:" + _NAME_SEP + r"|\s+)" + _NAME + r")*)"
    r"\s*" + _TITLE
    # After a title: end, non-Hangul, or the next credit glued on ("오희룡 기자오희룡 기자").
    # This is what rejects "김철수 기자는 ...".
    + r"(?=$|[^가-힣]|" + _NAME + r"\s*" + _TITLE + r")"
)
_NAMES_ONLY_RX = re.compile(r"[가-힣]{2,4}(?:" + _NAME_SEP + r"[가-힣]{2,4})*")
_BETWEEN_CREDITS = re.compile(r"(?:\s*(?:[·ㆍ・,/&]|및)\s*|\s+)")
_NAME_SEP_RX = re.compile(_NAME_SEP)
_SPLIT_NAMES = re.compile(r"(?:" + _NAME_SEP + r"|\s+)")

# Full (huily@joongdo.co.kr) or site-truncated (huily@) addresses.
_EMAIL_RX = re.compile(r"[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?")

# "[대전=뉴시스]", "(서울=연합뉴스)", "【서울=뉴시스】", "[뉴시스]".
_BRACKET_RX = re.compile(
    r"[\[(【〔]\s*(?:(?P<region>[가-힣A-Za-z·]{1,12})\s*=\s*)?(?P<outlet>[가-힣A-Za-z0-9]{2,15})\s*[\])】〕]"
)
# "[경인일보=신지영 기자]", "[대전=홍길동 기자]": a paper's own lead credit, the source (the
# paper, or a dateline) and the reporter inside one bracket.
_BRACKET_CREDIT_RX = re.compile(
    r"[\[(【〔]\s*(?P<source>[가-힣A-Za-z0-9·]{1,15})(?:\s?\((?P<place>[가-힣·]{1,12})\))?"
    r"\s*(?:=\s*|\s)(?P<credits>[^\])】〕=\[(【〔]{2,40}?)\s*[\])】〕]"
)
# The same with a two-word source: "[머니투데이방송 MTN = 유찬 기자]".
_BRACKET_CREDIT_TWO_WORDS_RX = re.compile(
    r"[\[(【〔]\s*(?P<source>[가-힣A-Za-z0-9·]{1,15}\s[가-힣A-Za-z0-9]{1,10})(?:\s?\((?P<place>[가-힣·]{1,12})\))?"
    r"\s*=\s*(?P<credits>[^\])】〕=\[(【〔]{2,40}?)\s*[\])】〕]"
)
_CLOSING = {"[": "]", "(": ")", "【": "】", "〔": "〕"}
# A lead credit without brackets: "홍길동 기자 = 정부는 ...", "대전=홍길동 기자 = ...".
_BARE_LEAD_RX = re.compile(r"\s*(?P<credit>[^=\n]{0,20}?=?[^=\n]{2,40}?" + _TITLE + r")\s*=\s*")
# "세종=", "글·사진=", "대전·세종=" before the credits.
_PREFIX_RX = re.compile(r"(?P<pre>[가-힣A-Za-z·ㆍ/, ]{1,20}?)\s*=\s*")
# Credit roles written where a region would be: "글·사진=홍길동 기자" has no dateline.
_ROLE_WORDS = frozenset({"글", "사진", "영상", "그래픽", "정리", "취재", "편집", "디자인", "촬영", "자료", "제공"})
_ROLE_SPLIT = re.compile(r"[·ㆍ/, ]+")
# A leading outlet token: "중도일보 이정준 기자", "KBS 홍길동 기자".
_OUTLET_SUFFIX = re.compile(r"(?:일보|신문|뉴스|뉴스1|방송|타임스|타임즈|투데이|매일|저널|통신|미디어|닷컴|TV|데일리|경제|포스트|비즈|프레스|코리아|스포츠|헤럴드)$")
_LATIN_OUTLET = re.compile(r"[A-Za-z][A-Za-z0-9]{1,9}")  # KBS, MBC, TJB, YTN
_BRANDED = re.compile(r"[A-Z]{2,}[가-힣]{1,4}|[가-힣]{1,4}[A-Z]{2,}")  # MBN스타, MK스포츠, 스포츠Q
# "이남경 MK스포츠 기자": a reporter of a paper other than the site, named before the paper.
_NAME_OUTLET_TITLE = re.compile(r"(?P<name>[가-힣]{2,4})\s+(?P<outlet>[^\s]{2,15})\s?" + _TITLE)
_TOO_LONG_FOR_NAME = re.compile(r"[가-힣]{5,15}")
_REGION_RX = re.compile(r"[가-힣A-Za-z·ㆍ]{1,12}")
_EMPTY_BRACKETS = re.compile(r"[\[(<]\s*[\])>]")  # what is left of "(hong@joongdo.co.kr)"
_LEADING_TOKEN = re.compile(r"(?P<tok>[^\s=]{2,15})\s+")
# Field labels some skins print before the name (NDSoft "infomation" skin: "기자명 홍길동 기자").
_FIELD_LABEL = re.compile(r"(?:기자명|기자\s?이름|작성자|글쓴이)\s*[:：]?\s*")

# Common Korean surnames (two-syllable ones included). Used only where names are separated
# by bare spaces ("김지헌 이슬기 기자"): there, a word that does not start with a surname is
# far more likely to be a place or an outlet than a second reporter.
_SURNAMES_2 = frozenset({"남궁", "황보", "제갈", "선우", "독고", "사공", "서문", "동방"})
_SURNAMES_1 = frozenset(
    "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나지엄"
    "채원천방공현함변염여추도소석선설마길연위표명기반라왕금옥육인맹제모탁국어은편용예경봉사부"
    "가복태목형피두감호음빈동온좌계"
)

_NON_BYLINE_MAX = 80  # a trailer is a short line; longer paragraphs are body text


def _normalize(text: str) -> str:
    """NFC and single spaces, so the grammar never has to care about nbsp or runs."""
    s = unicodedata.normalize("NFC", text)
    s = s.replace("\u200b", "").replace("\ufeff", "")
    return " ".join(s.split())


def _has_surname(name: str) -> bool:
    return name[:2] in _SURNAMES_2 or name[0] in _SURNAMES_1


def _is_role(prefix: str) -> bool:
    words = [w for w in _ROLE_SPLIT.split(prefix) if w]
    return bool(words) and all(w in _ROLE_WORDS for w in words)


def _wire_name(outlet: str) -> str | None:
    return WIRE_AGENCIES.get(outlet) or WIRE_AGENCIES.get(outlet.upper())


def _looks_like_outlet(tok: str) -> bool:
    """A leading word that names a paper or broadcaster rather than a reporter."""
    if " " in tok:  # "머니투데이방송 MTN"
        return all(_looks_like_outlet(word) for word in tok.split())
    if _wire_name(tok):
        return True
    if _OUTLET_SUFFIX.search(tok) and len(tok) >= 3:
        return True
    if _LATIN_OUTLET.fullmatch(tok) or _BRANDED.fullmatch(tok):
        return True
    return _TOO_LONG_FOR_NAME.fullmatch(tok) is not None


def _parse_credits(s: str) -> list[str] | None:
    """Names from "홍길동·김철수 기자 / 이영희 기자"; None if anything else is in ``s``."""
    authors: list[str] = []
    pos, n = 0, len(s)
    while pos < n:
        bm = _BETWEEN_CREDITS.match(s, pos)
        if bm is not None and authors:
            pos = bm.end()
            if pos >= n:
                break
        cm = _CREDIT_RX.match(s, pos)
        if cm is None:
            return None
        names_text = cm.group("names")
        names = [x for x in _SPLIT_NAMES.split(names_text) if x]
        bare_spaced = len(names) > 1 and _NAME_SEP_RX.search(names_text) is None
        if bare_spaced and not all(_has_surname(x) for x in names):
            return None
        for name in names:
            if name not in authors:
                authors.append(name)
        pos = cm.end()
    return authors or None


def parse_byline(text: str) -> Byline | None:
    """Parse a byline such as ``세종=오희룡 기자 huily@`` or ``[대전=뉴시스] 김양수 기자 =``.

    Returns None when ``text`` is not entirely a byline (an ordinary sentence, a caption),
    because callers use the result to decide what to remove from an article.
    """
    if not isinstance(text, str):
        return None
    s = _normalize(text)
    if not s or len(s) > 200:
        return None

    emails: list[str] = []
    for em in _EMAIL_RX.findall(s):
        if em not in emails:
            emails.append(em)
    s = _EMAIL_RX.sub(" ", s)
    s = _EMPTY_BRACKETS.sub(" ", s)
    s = " ".join(s.split())
    # "/김홍민 기자" trailers start with a slash; wire leads end "기자 =".
    s = s.lstrip("/ ").rstrip("=.: ").strip()
    fl = _FIELD_LABEL.match(s)
    if fl is not None:
        s = s[fl.end():]
        # "기자명 연합뉴스": the credit names an agency, not a person.
        agency = _wire_name(s.strip())
        if agency is not None:
            return Byline(authors=[], wire=agency, emails=emails)
        # After an explicit 기자명 label the title is optional: "기자명 : 홍길동".
        if _NAMES_ONLY_RX.fullmatch(s):
            names = [x for x in _SPLIT_NAMES.split(s) if x]
            return Byline(authors=list(dict.fromkeys(names)), emails=emails)

    region: str | None = None
    wire: str | None = None

    inside = _bracket_credit(s)
    if inside is not None:
        byline, end = inside
        if not s[end:].strip(" ="):
            return Byline(authors=byline.authors, region=byline.region, wire=byline.wire, emails=emails)
        return None

    bm = _BRACKET_RX.match(s)
    if bm is not None:
        pre = bm.group("region")
        if pre and not _is_role(pre):
            region = pre
        wire = _wire_name(bm.group("outlet"))
        if pre is None and wire is None:
            return None  # "[내방]", "[사설]" are headings, not bylines
        s = s[bm.end():].strip()
    else:
        tm = _LEADING_TOKEN.match(s)
        if tm is not None and "=" not in tm.group("tok") and _looks_like_outlet(tm.group("tok")):
            wire = _wire_name(tm.group("tok"))
            s = s[tm.end():]

    pm = _PREFIX_RX.match(s)
    if pm is not None:
        pre = pm.group("pre").strip()
        if not _is_role(pre):
            if region is not None or not _REGION_RX.fullmatch(pre):
                return None
            region = pre
        s = s[pm.end():]
        # "세종=글·사진=홍길동 기자": a role prefix may follow the region once.
        pm2 = _PREFIX_RX.match(s)
        if pm2 is not None and _is_role(pm2.group("pre").strip()):
            s = s[pm2.end():]

    s = s.strip(" =")
    if not s:
        if wire is None:
            return None
        return Byline(authors=[], region=region, wire=wire, emails=emails)
    if _wire_name(s.strip("[]()【】")) == "보도자료":
        return Byline(authors=[], region=region, wire="보도자료", emails=emails)

    authors = _parse_credits(s)
    if authors is None:
        nm = _NAME_OUTLET_TITLE.fullmatch(s.strip("[]【】 "))
        if nm is None or not _has_surname(nm.group("name")) or not _looks_like_outlet(nm.group("outlet")):
            return None
        authors = [nm.group("name")]  # "이남경 MK스포츠 기자": the name, then the paper
    return Byline(authors=authors, region=region, wire=wire, emails=emails)


def _bracket_credit(s: str) -> tuple[Byline, int] | None:
    """``[경인일보=신지영 기자]`` at the start of `s`: (its byline, where the bracket ends)."""
    for rx in (_BRACKET_CREDIT_RX, _BRACKET_CREDIT_TWO_WORDS_RX):
        m = rx.match(s)
        found = _bracket_credit_of(s, m) if m is not None else None
        if found is not None:
            return found
    return None


def _bracket_credit_of(s: str, m: re.Match[str]) -> tuple[Byline, int] | None:
    credits = m.group("credits").strip()
    authors = _parse_credits(credits)
    source, place = m.group("source"), m.group("place")
    if not authors and _looks_like_outlet(source) and _NAMES_ONLY_RX.fullmatch(credits):
        names = [x for x in _SPLIT_NAMES.split(credits) if x]
        authors = names if all(_has_surname(x) and len(x) <= 4 for x in names) else None
    if not authors:
        return None
    if len(authors) >= 2 and not _has_surname(authors[0]) and place is None:
        place, authors = authors[0], authors[1:]  # "[OSEN=대전, 지형준 기자]": the dateline, then the reporter
    spaced = s[m.start("source"):m.start("credits")].rstrip().endswith("=") is False
    if _looks_like_outlet(source):  # the paper itself, or a wire agency: "[헤럴드경제(대전)=..."
        return Byline(authors=authors, region=place, wire=_wire_name(source)), m.end()
    if spaced or place or _is_role(source) or not _REGION_RX.fullmatch(source):
        return None  # "[대전 홍길동 기자]" is not a form papers print; only "[매체 홍길동 기자]" is
    return Byline(authors=authors, region=source), m.end()


def is_byline_line(line: str) -> bool:
    """True when a whole paragraph is a reporter trailer (``/김홍민 기자``) to cut from the body.

    Short lines only, and the strict grammar of :func:`parse_byline` must explain every
    character, so a sentence that mentions ``기자`` mid-way stays in the body.
    """
    if not isinstance(line, str):
        return False
    s = _normalize(line)
    if not s or len(s) > _NON_BYLINE_MAX:
        return False
    b = parse_byline(s)
    return b is not None and (bool(b.authors) or b.wire is not None)


# A desk credited instead of a reporter: "디지털뉴스팀", "온라인뉴스부", "편집국".
_DESK = re.compile(r"[가-힣A-Za-z·]{0,10}(?:팀|부|국|데스크)")

# A wire lead at the very start of the first paragraph: the bracket, then optionally
# names + title (+ email) and "=" before the story text begins.
_LEAD_CREDITS_RX = re.compile(
    r"\s*(?P<credits>[^=\n]{2,60}?)\s*=\s*"
)


def strip_wire_lead(paragraph: str) -> tuple[str, Byline | None]:
    """Remove a leading ``[대전=뉴시스] 김양수 기자 =`` / ``【서울=뉴시스】`` lead.

    Returns (rest of the paragraph, parsed byline). When there is no lead the paragraph is
    returned unchanged with None, so callers can always use the first element.
    """
    if not isinstance(paragraph, str):
        return paragraph, None
    s = paragraph.lstrip()
    inside = _bracket_credit(_normalize(s[:80]))
    if inside is not None:
        # "[경인일보=신지영 기자] 인천시는 ...": cut at the same bracket in the original text
        close = s.find(_CLOSING.get(s[:1], "]"))
        return s[close + 1 :].lstrip(" =").lstrip(), inside[0]
    bm = _BRACKET_RX.match(s)
    if bm is None:
        lm = _BARE_LEAD_RX.match(s) if "=" in s[:70] else None  # cheap test first: most paragraphs have none
        if lm is not None:  # "홍길동 기자 = 정부는 ...": the credit must parse whole
            credit = parse_byline(lm.group("credit"))
            if credit is not None and credit.authors:
                return s[lm.end():].lstrip(), credit
        return paragraph, None
    pre, outlet = bm.group("region"), bm.group("outlet")
    if pre is not None and _is_role(pre):
        return paragraph, None  # "(사진=중도일보)" caption credit
    lead_end = bm.end()
    if pre is None and _wire_name(outlet) is None:
        # "[인사이트] 전준강 기자 = ...", "[인사이트] 디지털뉴스팀 = ...": the site's name, then a
        # credit and "="; anything else ("[내방] ...") is a heading and stays
        cm = _LEAD_CREDITS_RX.match(s, lead_end)
        if cm is not None and bm.group(0)[:1] == "[":
            credit = cm.group("credits").strip()
            byline = parse_byline(credit)
            if byline is not None and byline.authors:
                return s[cm.end():].lstrip(), Byline(authors=byline.authors, region=byline.region, emails=byline.emails)
            if _DESK.fullmatch(credit):
                return s[cm.end():].lstrip(), Byline(authors=[])
        return paragraph, None
    cm = _LEAD_CREDITS_RX.match(s, lead_end)
    if cm is not None:
        candidate = parse_byline(s[: cm.end()])
        if candidate is not None and candidate.authors:
            return s[cm.end():].lstrip(), candidate
    byline = parse_byline(s[:lead_end])
    if byline is None:  # not a lead after all: keep the text rather than lose it
        return paragraph, None
    return s[lead_end:].lstrip(), byline


# A broadcast report's last line names its reporter: "KBS 뉴스 이윤우입니다.", "MBC뉴스 구민지입니다.",
# "TV조선 변재영입니다.", "연합뉴스 이준삼입니다.".
_SIGNOFF_RX = re.compile(
    r"(?P<outlet>[A-Z]{2,6}|TV[가-힣]{2,4}|[가-힣A-Z]{2,8}(?:TV|방송|뉴스))\s?(?:뉴스\s?)?"
    r"(?P<name>[가-힣]{2,4}?)(?:\s?기자)?입니다\.?"
)


def parse_signoff(line: str) -> Byline | None:
    """The reporter of a broadcast report's sign-off line (``KBS 뉴스 이윤우입니다.``), else None."""
    if not isinstance(line, str):
        return None
    m = _SIGNOFF_RX.fullmatch(_normalize(line))
    if m is None or not _has_surname(m.group("name")):
        return None
    return Byline(authors=[m.group("name")], wire=_wire_name(m.group("outlet")))
