"""Which 시도 and 시군구 an article is about: the code table and the rules that read a text.

The table (data/places.tsv) is the 시도 and 시군구 rows of 행정안전부's 법정동코드 전체자료
(data/README.md names the copy and its date): 17 시도, 229 시군구 (the 226 자치 units, 제주시
and 서귀포시, and 세종특별자치시, which has no 시군구 below it and is its own) and the 일반구 of
the large cities (수원시 장안구), which count as their city. data/place_aliases.tsv adds former
names (청원군 -> 청주시, 강원도 -> 강원특별자치도, 군위군 now in 대구) and a few names every
reader knows (내포 -> 충남, 분당 -> 성남시). Codes are the 법정동 code's prefix: two digits for a
시도 ("44"), five for a 시군구 ("44150").

`tag()` reads, in this order of trust, the dateline (`공주=`, `[대전=뉴시스]`), the title, the
lead (subtitle and first paragraph) and, only when none of them names a place, the outlet's home
region (source "outlet"). A name counts where it starts a word and is followed by what follows
a place name (공주시청, 공주시의회, 공주에서, 공주지역), or by two letters or more of a longer
word (논산딸기축제, 창원특례시, 인천국세청; one letter is how personal names run on: 김해숙),
except the words listed in _BAD_REST (대전환, 세종대왕, 영주권, 김해공항); so 부산물, 광주리,
울산바위 and 휴대전화 name nothing. Names that are also ordinary words (공주, 예산, 고령, 동해,
진도, 경기 ...: TRAP_STEMS) count only with their suffix (예산군), in a dateline, or right after
their 시도 (충남 예산). Names of several units (중구, 고성, 강서구, and 광주시, which is 광주광역시
or 경기 광주시) take the 시도 written just before them, else the 시도 the article names
elsewhere, else the outlet's home 시도; else they give the 시도 only if all candidates share it,
or nothing. Places of the lead in another 시도 than the dateline's and title's are left out
(a 광양 story signed in 서울 is not about 서울); the lead's places come most-named 시도 first;
and 서울 named once in a lead, when the title and dateline name no place, is where national
news happens (a briefing at 대한상의 in 서울 중구, the exchange in 여의도), not its subject,
unless the outlet is from 서울.

Pure Python over the standard library; the table is read once per process.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from crawler.text.korean import PARTICLES

__all__ = [
    "SOURCES",
    "VERSION",
    "Place",
    "PlaceError",
    "Unit",
    "fields",
    "filter_names",
    "gazetteer",
    "resolve_sido",
    "resolve_sigungu",
    "tag",
]

# A package resource, not a path beside __file__: deployed to scrapyd the package runs from a
# zipped egg, where no file of it can be opened by path.
DATA = resources.files("crawler.text").joinpath("data")
SOURCES = ("dateline", "title", "lead", "outlet")
VERSION = 1  # of the table and rules: stored as `places_version`; a new one makes `newsdesk places --reindex` redo every article
LEAD_CHARS = 300  # the lead: the subtitle and this much of the body's start
MAX_PLACES = 6
CAPITAL = "11"  # 서울: named once in a lead, it is where national news happens (see tag)

# Two-letter names that are also ordinary words or names of other things: they name a place
# only with their suffix, in a dateline, or right after their 시도 (see the module docstring).
TRAP_STEMS = frozenset({
    "경기", "공주", "고성", "양산", "진주", "상주", "구미", "보은", "화성", "구리", "부여", "의성", "고령",
    "영동", "강서", "영광", "장성", "진도", "완주", "장수", "영양", "수성", "수영", "사상", "기장", "동작",
    "연수", "남동", "강화", "광명", "고양", "음성", "예산", "동해", "남해", "광산", "사하", "오산", "양주",
    "용인", "유성", "관악", "달성", "거창", "사천", "강진", "신안", "경주", "안성", "내포", "인제", "봉화",
    "곡성", "성주", "강남", "강북", "강동", "청도",
})
# Words after a name that make it something else (전주 대비: the previous week).
_NOT_BEFORE = {"전주": ("대비", "비해", "보다", "比")}
# What a name may not run into (대전환, 영주권, 세종대왕, 김해공항 is in 부산 강서구).
_BAD_REST = {
    "대전": ("환", "차", "제", "투", "략"), "부산": ("물",), "광주": ("리",), "울산": ("바위",), "대구": ("탕",),
    "세종": ("대왕", "문화회관", "대로", "학당", "대학"), "제주": ("항공",), "영주": ("권",), "여주": ("인공",),
    "무안": ("하", "한", "해", "함"), "김해": ("공항", "국제공항"), "천안": ("함",),
}
# A name at the start of a longer word (논산딸기축제, 창원특례시, 인천국세청) counts when what
# follows is two letters or more: one letter is how Korean names run on (김해숙, 이천수).
MIN_COMPOUND_REST = 2
# What may follow a place name inside its word, besides particles.
_SUFFIXES = frozenset({
    "청", "시청", "군청", "구청", "도청", "시장", "군수", "구청장", "도지사", "시의회", "군의회", "구의회",
    "도의회", "의회", "시의원", "군의원", "구의원", "도의원", "교육청", "교육지원청", "시교육청", "도교육청",
    "역", "시민", "도민", "군민", "구민", "지역", "지역민", "권", "권역", "지방", "항", "일대", "일원", "시내",
    "도심", "경찰서", "소방서", "시정", "군정", "구정", "도정", "시청사", "군청사", "구청사", "특례시",
})
_PARTICLES = tuple(sorted(
    set(PARTICLES) - {"적", "상", "내", "별", "용", "간", "키로", "시키는", "시켰다", "하기로", "하다", "한다",
                      "했다", "하는", "하고", "했고", "하며", "했으며", "하여", "해", "해서", "한", "할", "하기",
                      "하면", "함", "했던", "하겠다", "되다", "된다", "됐다", "되는", "된", "될", "되며", "되어",
                      "돼", "되고", "인", "고", "다", "나", "서", "들"},
    key=len, reverse=True))
_WIRE_DATELINE = re.compile(r"^\s*[\[(【]\s*([가-힣·/ ]{2,16}?)\s*[=/]")


class PlaceError(ValueError):
    """A 시도 or 시군구 name not in the table, or one naming several units; says which."""


@dataclass(frozen=True)
class Unit:
    """One row of the table: a 시도 (code of 2 digits) or a 시군구 (5 digits)."""

    code: str
    name: str  # official name: 충청남도, 공주시
    sido_code: str
    sido: str  # official name of its 시도

    @property
    def is_sido(self) -> bool:
        return len(self.code) == 2

    @property
    def full(self) -> str:
        """The name as the 법정동 table prints it: 충청남도 공주시; a 시도 (and 세종) alone."""
        return self.name if self.is_sido or self.name == self.sido else f"{self.sido} {self.name}"


@dataclass(frozen=True)
class Place:
    """A place an article is about, and where the tagger read it."""

    sido: str
    sido_code: str
    sigungu: str | None
    sigungu_code: str | None
    source: str  # one of SOURCES

    @property
    def sigungu_full(self) -> str | None:
        if self.sigungu is None:
            return None
        return self.sigungu if self.sigungu == self.sido else f"{self.sido} {self.sigungu}"

    def as_dict(self) -> dict[str, Any]:
        return {"sido": self.sido, "sido_code": self.sido_code, "sigungu": self.sigungu,
                "sigungu_code": self.sigungu_code, "source": self.source}


@dataclass(frozen=True)
class _Target:
    unit: Unit
    strong: bool  # the full name with its suffix, or an alias: never a trap


class Gazetteer:
    """The code table and every written form of its names (see the module docstring)."""

    def __init__(self, rows: Iterable[tuple[str, str]], aliases: Iterable[tuple[str, str]]) -> None:
        self.sidos: dict[str, Unit] = {}
        self.units: dict[str, Unit] = {}  # 5-digit code -> 시군구 (일반구 are not units)
        self.by_full: dict[str, Unit] = {}
        self.forms: dict[str, list[_Target]] = {}
        self.sido_forms: dict[str, Unit] = {}
        self.former_sido: dict[str, set[str]] = {}  # 시군구 code -> codes of 시도 it was in (군위: 경북)
        districts: list[tuple[str, str, str]] = []  # 일반구: (code, name, city code)
        for code10, name in rows:
            words = name.split()
            if code10[2:] == "00000000":
                self.sidos[code10[:2]] = Unit(code10[:2], name, code10[:2], name)
            elif len(words) == 1:  # 세종특별자치시: a 시도 whose only 시군구 is itself (no 시도 row)
                sido = self.sidos.setdefault(code10[:2], Unit(code10[:2], name, code10[:2], name))
                self.units[code10[:5]] = Unit(code10[:5], name, sido.code, sido.name)
            elif len(words) == 2:
                sido = self.sidos[code10[:2]]
                self.units[code10[:5]] = Unit(code10[:5], words[1], sido.code, sido.name)
            else:
                districts.append((code10[:5], words[-1], code10[:4] + "0"))
        for unit in self.units.values():
            self.by_full[unit.full] = unit
        for sido in self.sidos.values():
            self.by_full[sido.name] = sido
            for form in _sido_forms(sido.name):
                self.sido_forms.setdefault(form, sido)
        self.sejong = next((u for u in self.units.values() if u.name == u.sido), None)
        for form, sido in self.sido_forms.items():
            self._add(form, sido, True)
        for unit in self.units.values():
            if unit.name == unit.sido:
                continue
            self._add(unit.name, unit, True)
            stem = unit.name[:-1]
            if len(unit.name) > 2 and stem not in self.sido_forms:
                self._add(stem, unit, False)
        for code, name, city in districts:
            if city in self.units:
                self._add(name, self.units[city], True)
        for alias, current in aliases:
            unit = self.by_full.get(current)
            if unit is None:
                raise ValueError(f"place_aliases.tsv: {alias!r} names {current!r}, which is not in places.tsv")
            if unit.is_sido:
                self.sido_forms.setdefault(alias, unit)
            elif " " in alias:  # 경상북도 군위군 -> 대구광역시 군위군: 경북 군위 still finds it
                old = self.sido_forms.get(alias.split()[0])
                if old is not None and old.code != unit.sido_code:
                    self.former_sido.setdefault(unit.code, set()).add(old.code)
            self._add(alias.split()[-1], unit, True)
        names = sorted(self.forms, key=len, reverse=True)
        self.pattern = re.compile("(?<![가-힣])(" + "|".join(map(re.escape, names)) + ")([가-힣]*)")

    def _add(self, form: str, unit: Unit, strong: bool) -> None:
        targets = self.forms.setdefault(form, [])
        if all(t.unit != unit for t in targets):
            targets.append(_Target(unit, strong))

    # -- names given by people (CLI options, API parameters) --------------------------------

    def sido(self, name: str) -> Unit:
        """The 시도 called `name` (충남, 충청남도, 충남도, 강원도); PlaceError with a hint."""
        key = "".join(name.split())
        unit = self.sido_forms.get(key) or (self.sidos.get(key) if key.isdigit() else None)
        if unit is None:
            close = difflib.get_close_matches(key, list(self.sido_forms), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise PlaceError(f"unknown 시도 {name!r}: expected one of {', '.join(_SHORT.values())} "
                             f"or an official name such as 충청남도{hint}")
        return unit

    def sigungu(self, name: str, sido: Unit | None = None) -> Unit:
        """The 시군구 called `name` (공주시, 공주, 대전 유성구, 44150), within `sido` if given;
        PlaceError naming the candidates when it is unknown or names several units."""
        text = " ".join(name.split())
        if text.isdigit() and text in self.units:
            unit = self.units[text]
        else:
            words = text.split(" ")
            if len(words) > 1:
                sido = self.sido(" ".join(words[:-1]))
                text = words[-1]
            candidates = [t.unit for t in self.forms.get(text, []) if not t.unit.is_sido or t.unit == self.sejong]
            if text in self.sido_forms and self.sido_forms[text].code == getattr(self.sejong, "sido_code", None):
                candidates = [self.sejong] if self.sejong else []
            elsewhere = list(dict.fromkeys(candidates))
            if sido is not None:
                candidates = [u for u in candidates if u.sido_code == sido.code]
            candidates = list(dict.fromkeys(candidates))
            if not candidates and sido is not None and elsewhere:
                raise PlaceError(f"시군구 {name!r} is not in {sido.name}: "
                                 f"{', '.join(u.full for u in elsewhere)}")
            if not candidates:
                pool = [t for t in self.forms if any(not x.unit.is_sido for x in self.forms[t])]
                close = difflib.get_close_matches(text, pool, n=3, cutoff=0.5)
                where = f" in {sido.name}" if sido is not None else ""
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise PlaceError(f"unknown 시군구 {name!r}{where}{hint}")
            if len(candidates) > 1:
                raise PlaceError(f"시군구 {name!r} names {len(candidates)} places: "
                                 f"{', '.join(u.full for u in candidates)}; give the 시도 too (e.g. --sido)")
            unit = candidates[0]
        if sido is not None and unit.sido_code != sido.code:
            raise PlaceError(f"{unit.full} is not in {sido.name}")
        return unit

    # -- reading a text ------------------------------------------------------------------

    def mentions(self, text: str, source: str) -> list[list[Unit]]:
        """The places `text` names, in order: each a list of candidate units (one unless the
        name is shared), narrowed to the 시도 written just before it."""
        found: list[list[Unit]] = []
        last_sido: tuple[Unit, int] | None = None
        for m in self.pattern.finditer(text):
            form, rest = m.group(1), m.group(2)
            targets = self.forms[form]
            if form in _BAD_REST and rest.startswith(_BAD_REST[form]):
                continue
            if not _fits(rest) and (len(rest) < MIN_COMPOUND_REST or form in TRAP_STEMS):
                continue
            after = text[m.end():m.end() + 4].lstrip()
            if form in _NOT_BEFORE and (rest in _NOT_BEFORE[form] or after.startswith(_NOT_BEFORE[form])):
                continue
            context = last_sido[0] if last_sido is not None and m.start() - last_sido[1] <= 1 else None
            sido_targets = [t for t in targets if t.unit.is_sido]
            if sido_targets and len(targets) == 1:
                if form == "경기" and not rest.startswith(("도", "지역", "남부", "북부")):
                    # 경기 is also a game and the economy: a 시도 only as 경기도, or before a 경기 시군구
                    nxt = self.pattern.match(text, m.end() + 1) if text[m.end():m.end() + 1] == " " else None
                    if nxt is None or not any(t.unit.sido_code == "41" for t in self.forms[nxt.group(1)]):
                        continue
                last_sido = (sido_targets[0].unit, m.end())
                found.append([sido_targets[0].unit])
                continue
            if context is not None:
                targets = [t for t in targets if t.unit.sido_code == context.code
                           or context.code in self.former_sido.get(t.unit.code, ())]
            elif source != "dateline":
                if form in TRAP_STEMS and not rest:
                    continue
                if any(not t.strong for t in targets) and form in TRAP_STEMS:
                    continue
            units = list(dict.fromkeys(t.unit for t in targets))
            if units:
                if context is not None and found and found[-1] == [context]:
                    found.pop()  # 대전 유성구: one place
                found.append(units)
            last_sido = None
        return found


def _fits(rest: str) -> bool:
    """Whether `rest` (the Hangul after a name, inside its word) keeps it a place name."""
    for _ in range(3):
        if not rest or rest in _SUFFIXES:
            return True
        for particle in _PARTICLES:
            if rest.endswith(particle):
                rest = rest[: -len(particle)]
                break
        else:
            return False
    return not rest or rest in _SUFFIXES


_SHORT = {"11": "서울", "26": "부산", "27": "대구", "28": "인천", "29": "광주", "30": "대전", "31": "울산",
          "36": "세종", "41": "경기", "43": "충북", "44": "충남", "46": "전남", "47": "경북", "48": "경남",
          "50": "제주", "51": "강원", "52": "전북"}


def _sido_forms(name: str) -> list[str]:
    """충청남도 -> 충청남도, 충남, 충남도; 대전광역시 -> 대전광역시, 대전, 대전시."""
    forms = [name]
    for suffix in ("특별자치시", "특별자치도", "광역시", "특별시", "도"):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            short = stem[0] + stem[2] if len(stem) == 3 else stem
            forms += [short, short + ("도" if suffix.endswith("도") else "시")]
            if len(stem) == 3:
                forms.append(stem + "도")  # 충청남도 is itself; 전라북도 for 전북특별자치도
            break
    return list(dict.fromkeys(forms))


def _read(name: str) -> list[list[str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    rows = list(csv.reader(lines, delimiter="\t"))
    return [[cell.strip() for cell in row] for row in rows[1:] if row]


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The shipped table, read once."""
    rows = [(r[0], r[1]) for r in _read("places.tsv")]
    aliases = [(r[0], r[1]) for r in _read("place_aliases.tsv")]
    return Gazetteer(rows, aliases)


def resolve_sido(name: str) -> Unit:
    """The 시도 a person means by `name` (충남, 충청남도, 강원도, 44); PlaceError otherwise."""
    return gazetteer().sido(name)


def resolve_sigungu(name: str, sido: str | None = None) -> Unit:
    """The 시군구 a person means by `name` (공주시, 공주, 대전 유성구, 44150), within `sido`."""
    table = gazetteer()
    return table.sigungu(name, table.sido(sido) if sido else None)


def filter_names(sidos: Iterable[str], sigungus: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The stored names for 시도 and 시군구 a person asked for: official 시도 names, and
    시군구 as `충청남도 공주시`, looked for within the 시도 given (중구 with 서울 and 부산 is
    both 중구). PlaceError, with a hint, for a name not in the table, in none of the 시도
    given, or naming several places when no 시도 is given."""
    table = gazetteer()
    sido_units = [table.sido(s) for s in sidos]
    sigungu_units: list[Unit] = []
    for name in sigungus:
        if len(sido_units) < 2:
            sigungu_units.append(table.sigungu(name, sido_units[0] if sido_units else None))
            continue
        found = []
        for sido in sido_units:
            try:
                found.append(table.sigungu(name, sido))
            except PlaceError:
                pass
        if not found:
            raise PlaceError(f"시군구 {name!r} is in none of {', '.join(u.name for u in sido_units)}")
        sigungu_units.extend(found)
    return (tuple(dict.fromkeys(u.name for u in sido_units)),
            tuple(dict.fromkeys(u.full for u in sigungu_units)))


def _dateline(region: str | None, body: str) -> str:
    if region:
        return region
    m = _WIRE_DATELINE.match(body[:40])
    return m.group(1) if m else ""


def _lead(subtitle: str | None, body: str) -> str:
    start = body[:LEAD_CHARS]
    m = _WIRE_DATELINE.match(start)
    if m:
        start = start[m.end():]
    return f"{subtitle or ''}\n{start}"


def tag(title: str, body: str = "", *, subtitle: str | None = None, region: str | None = None,
        home: str | None = None) -> list[Place]:
    """The places an article is about, most trusted first (see the module docstring).

    `region` is the dateline as the page printed it (세종, 내포, 천안·아산); `home` is the
    outlet's home region (대전, 충북); both may be None. Returns at least one place when
    `home` names a 시도."""
    table = gazetteer()
    readings = [("dateline", table.mentions(_dateline(region, body or ""), "dateline")),
                ("title", table.mentions(title or "", "title")),
                ("lead", table.mentions(_lead(subtitle, body or ""), "lead"))]
    known = {units[0].sido_code for _s, found in readings for units in found
             if len({u.sido_code for u in units}) == 1}
    home_sido = None
    if home:
        try:
            home_sido = table.sido(home)
        except PlaceError:
            home_sido = None
    first_sido = next((units[0].sido_code for _s, found in readings for units in found
                       if len({u.sido_code for u in units}) == 1), None)
    places: list[Place] = []
    strong_sidos: set[str] = set()
    for source, found in readings:
        if source == "lead":  # the 시도 the lead names most comes first (a passing mention after it)
            named = [units[0].sido_code for units in found if len({u.sido_code for u in units}) == 1]
            found = sorted(found, key=lambda units: -named.count(units[0].sido_code))
        for units in found:
            unit = _choose(units, first_sido, home_sido, known, table)
            if unit is None:
                continue
            if source == "lead" and strong_sidos and unit.sido_code not in strong_sidos:
                continue
            if (source == "lead" and not strong_sidos and unit.sido_code == CAPITAL and named.count(CAPITAL) < 2
                    and (home_sido is None or home_sido.code != CAPITAL)):
                continue  # where national news happens (서울 중구 대한상의 in a caption), not what it is about
            if source != "lead":
                strong_sidos.add(unit.sido_code)
            places.append(_place(unit, source, table))
    places = _merge(places)
    if not places and home_sido is not None:
        places = [_place(home_sido, "outlet", table)]
    return places[:MAX_PLACES]


def _choose(units: list[Unit], first_sido: str | None, home: Unit | None, known: set[str],
            table: Gazetteer) -> Unit | None:
    """One unit of a shared name: the article's first 시도, else one it names, else the
    outlet's; else the 시도 if every candidate has the same one; else None."""
    if len(units) == 1:
        return units[0]
    for wanted in ([first_sido] if first_sido else []) + sorted(known) + ([home.code] if home else []):
        inside = [u for u in units if u.sido_code == wanted]
        if len(inside) == 1:
            return inside[0]
        if inside and any(u.is_sido for u in inside):  # 광주시 in a 광주 story: the metropolitan city
            return next(u for u in inside if u.is_sido)
    sidos = {u.sido_code for u in units}
    return table.sidos[sidos.pop()] if len(sidos) == 1 else None


def _place(unit: Unit, source: str, table: Gazetteer) -> Place:
    if unit.is_sido:
        if table.sejong is not None and unit.code == table.sejong.sido_code:
            unit = table.sejong
        else:
            return Place(unit.name, unit.code, None, None, source)
    return Place(unit.sido, unit.sido_code, unit.name, unit.code, source)


def _merge(places: list[Place]) -> list[Place]:
    """Each place once; a 시도 alone is dropped where a 시군구 of it is there too, and that
    시군구 keeps the earlier position (대전= ... 유성구: one place, where 대전 was)."""
    out: list[Place] = []
    for place in places:
        same = next((i for i, p in enumerate(out) if p.sido_code == place.sido_code
                     and (p.sigungu_code == place.sigungu_code or p.sigungu_code is None)), None)
        if same is None:
            if place.sigungu_code is None and any(p.sido_code == place.sido_code for p in out):
                continue
            out.append(place)
        elif out[same].sigungu_code is None and place.sigungu_code is not None:
            out[same] = place
    return out


def fields(places: list[Place]) -> dict[str, Any]:
    """The stored fields for `places`: `places` (dicts) and the flat, indexed `sido` and
    `sigungu` lists (official names; a 시군구 with its 시도: 충청남도 공주시)."""
    return {
        "places": [p.as_dict() for p in places],
        "sido": list(dict.fromkeys(p.sido for p in places)),
        "sigungu": list(dict.fromkeys(p.sigungu_full for p in places if p.sigungu_full)),
        "places_version": VERSION,
    }
