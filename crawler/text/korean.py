"""Korean word matching for search: a query word, its stem, and the forms of it a text may hold.

Korean writes a noun and its particle as one eojeol (대전시는, 스마트시티를), so a search word
must match inside an eojeol; but a plain substring test also matches inside unrelated words
(대전 in 휴대전화, 대전차). The rule here sits between the two:

- a query word is reduced to its stem by stripping, at most twice, a trailing particle or
  ending from PARTICLES (스마트시티를 -> 스마트시티, 발표했다 -> 발표), then an administrative
  suffix from ADMIN (대전시가 -> 대전시 -> 대전), never below two characters (국가, 도시,
  지구 keep theirs);
- the stem matches a text where it starts an eojeol (start of text, or after a space or
  punctuation) and is followed only by allowed suffixes: at most one of ADMIN and PLACE
  (시, 광역시, 시청, 역 ...) and at most three of PARTICLES, then the eojeol's end. So 대전
  finds 대전, 대전시는, 대전광역시에서, 대전역 but not 휴대전화 or 대전차;
- a compound stem of four or more Hangul letters also matches with one space inside it where
  both parts keep two letters or more (스마트시티 finds 스마트 시티); the engine joins
  adjacent query words to match the unspaced form (스마트 시티 finds 스마트시티).

A province's full name and its short form find each other (충청남도 and 충남, 강원특별자치도
and 강원): `alternatives` lists the stems a word is also matched by.

Latin letters and digits match as whole tokens (KTX in KTX를, 2025 in 2025년), the letters
around them aside. Everything works on normalized text (crawler.text.terms.normalize).
"""

from __future__ import annotations

import re
from functools import lru_cache

from crawler.text.terms import _CJK, is_cjk, normalize

# Particles, copulas and common verb endings that follow a noun in the same eojeol.
PARTICLES = (
    "이", "가", "은", "는", "을", "를", "의", "에", "도", "만", "와", "과", "로", "으로", "에서", "에게",
    "께서", "께", "한테", "까지", "부터", "보다", "처럼", "마다", "조차", "이나", "나", "이랑", "랑",
    "라고", "이라고", "라는", "이라는", "란", "이란", "이며", "며", "이고", "고", "이다", "다", "였다",
    "이었다", "인", "으로서", "로서", "으로써", "로써", "에도", "에는", "에선", "서", "들", "적", "께서는",
    "하다", "한다", "했다", "하는", "하고", "했고", "하며", "했으며", "하여", "해", "해서", "한", "할",
    "하기", "하면", "함", "했던", "하겠다", "되다", "된다", "됐다", "되는", "된", "될", "되며", "되어",
    "돼", "되고", "시키는", "시켰다", "키로", "하기로", "간", "상", "내", "별", "용",
)
# Administrative forms of a place name (대전 -> 대전시, 대전광역시, 유성구청).
ADMIN = (
    "시", "군", "구", "도", "읍", "면", "동", "광역시", "특별시", "특별자치시", "특별자치도", "자치도",
)
# Other suffixes that keep a place word's meaning (대전시청, 대전역, 대전시민).
PLACE = (
    "청", "시청", "군청", "구청", "도청", "시장", "군수", "구청장", "도지사", "시의회", "도의회", "의회",
    "교육청", "시교육청", "도교육청", "역", "시민", "도민", "군민", "구민", "지역", "권", "지방", "항",
)
MIN_STEM = 2
# Stems this long or longer also match as the start of a longer compound (비상진료 in
# 비상진료체계, 스마트시티 in 스마트시티형): the words that collide with unrelated ones
# (대전차, 부산물, 광주리, 강원랜드) are two-letter stems. None: never (measured in
# bench/search_quality.py).
OPEN_PREFIX_MIN: int | None = 3
_STRIP_OFFICE = ("청",)
_LATIN_HEAD = re.compile(r"[a-z0-9]+")
_STRIP_PARTICLES = tuple(sorted(set(PARTICLES) - {"상", "내", "별", "용", "간", "적"}, key=len, reverse=True))
_STRIP_ADMIN = tuple(sorted({"시", "군", "구", "도", "광역시", "특별시", "특별자치시", "특별자치도"}, key=len, reverse=True))


def _alternation(items: tuple[str, ...]) -> str:
    return "|".join(re.escape(s) for s in sorted(set(items), key=len, reverse=True))


_ADMIN_SUFFIX = _alternation(ADMIN)
_PLACE_SUFFIX = _alternation(PLACE)
_PARTICLE_SUFFIX = f"(?:{_alternation(PARTICLES)}){{0,3}}"


def _hangul(text: str) -> bool:
    return bool(text) and all(is_cjk(ch) for ch in text)


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    """The stem a query word is matched by: trailing particles/endings, then an administrative
    suffix, stripped while two letters or more remain. Only all-Hangul words are changed."""
    word = normalize(word).strip()
    latin = _LATIN_HEAD.match(word)
    if latin and latin.end() < len(word):  # KTX를, 5g는: the token without its particle
        return latin.group() if word[latin.end():] in PARTICLES or word[latin.end():] in ADMIN else word
    if not _hangul(word):
        return word
    for _ in range(2):
        for suffix in _STRIP_PARTICLES:
            if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
                word = word[: -len(suffix)]
                break
        else:
            break
    for suffix in _STRIP_OFFICE:  # 유성구청 -> 유성구, 대전시청 -> 대전시; 교육청 stays
        if word.endswith(suffix) and word[: -len(suffix)].endswith(_STRIP_ADMIN) and len(word) - len(suffix) > MIN_STEM:
            word = word[: -len(suffix)]
            break
    for suffix in _STRIP_ADMIN:  # place names are two letters (대전시), districts up to three (해운대구)
        rest = len(word) - len(suffix)
        if word.endswith(suffix) and (rest == MIN_STEM or (rest == MIN_STEM + 1 and suffix in ("구", "군"))):
            return word[: -len(suffix)]
    return word


# The 시도 written in full and short (행정구역 명칭). The metropolitan cities and 경기도 need no
# entry: stripping the administrative suffix gives their short form (대전광역시 -> 대전).
PROVINCES: dict[str, tuple[str, ...]] = {
    "충남": ("충청남도",), "충북": ("충청북도",), "경남": ("경상남도",), "경북": ("경상북도",),
    "전남": ("전라남도",), "전북": ("전라북도", "전북특별자치도"), "강원": ("강원도", "강원특별자치도"),
    "제주": ("제주도", "제주특별자치도"),
}
_PROVINCE_OF = {full: short for short, fulls in PROVINCES.items() for full in fulls}


def alternatives(word_stem: str) -> tuple[str, ...]:
    """The stems a word is matched by: itself first, then the other names of the same
    province (충남 -> 충남, 충청남도; 충청남도 -> 충청남도, 충남)."""
    short = _PROVINCE_OF.get(word_stem) or _province_of_stem().get(word_stem) or word_stem
    if short not in PROVINCES:
        return (word_stem,)
    names = (short, *PROVINCES[short])
    return (word_stem, *[n for n in names if n != word_stem and stem(n) != word_stem])


@lru_cache(maxsize=1)
def _province_of_stem() -> dict[str, str]:
    """A full name's stem (충청남도 -> 충청남, 도 being a particle too) -> the short form."""
    return {stem(full): short for full, short in _PROVINCE_OF.items()}


def split_points(word: str) -> range:
    """Where a space may fall inside a Hangul compound and it still matches (both parts two
    letters or more): 스마트시티 -> 2, 3 (스마 트시티 is allowed too; it is rare and harmless)."""
    if not _hangul(word) or len(word) < 2 * MIN_STEM:
        return range(0)
    return range(MIN_STEM, len(word) - MIN_STEM + 1)


@lru_cache(maxsize=4096)
def word_pattern(word: str) -> re.Pattern[str]:
    """The compiled pattern of a stem in normalized, whitespace-squashed text.

    Group "w" is the stem with its administrative suffix (대전시 of 대전시는, 대전시의회: what
    snippets highlight); place suffixes and particles after it are not.
    """
    if not word:
        raise ValueError("empty word")
    if _hangul(word) and len(word) == 1:  # one letter: the eojeols it starts (쌀 finds 쌀값)
        return re.compile(rf"(?<!\w)(?P<w>{re.escape(word)})")
    if _hangul(word) and OPEN_PREFIX_MIN is not None and len(word) >= OPEN_PREFIX_MIN:
        splits = set(split_points(word))
        body = "".join((" ?" if i in splits else "") + re.escape(ch) for i, ch in enumerate(word))
        return re.compile(rf"(?<!\w)(?P<w>{body}(?:{_ADMIN_SUFFIX})?)")
    if _hangul(word):
        splits = set(split_points(word))
        body = "".join((" ?" if i in splits else "") + re.escape(ch) for i, ch in enumerate(word))
        return re.compile(rf"(?<!\w)(?P<w>{body}(?:{_ADMIN_SUFFIX})?)(?:{_PLACE_SUFFIX})?{_PARTICLE_SUFFIX}(?![{_CJK}])")
    # Latin/digits (or mixed): whole token; Hangul may follow (KTX를, 2025년).
    return re.compile(rf"(?<![a-z0-9])(?P<w>{re.escape(word)})(?![a-z0-9])")


def find_word(text: str, word: str) -> list[tuple[int, int]]:
    """(start, end) of every match of stem `word` in `text` (normalized), the stem part only."""
    return [m.span("w") for m in word_pattern(word).finditer(text)]


def has_word(text: str, word: str) -> bool:
    return word_pattern(word).search(text) is not None
