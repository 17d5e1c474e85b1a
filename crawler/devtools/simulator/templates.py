"""Page templates of the simulator, cut from the saved pages of each CMS family.

A simulated article page is the family's saved article page (tests/fixtures/<outlet>/) with
its headline, body, dates and article id replaced: same markup, same scripts and sidebars,
same size, so the crawler parses what it parses in production. A list page is the saved
list page with its article items replaced by as many generated items as a page holds, and a
pager added. The templates are compiled once into segments (literal text and slots) so a
page renders with one join: the simulator serves hundreds of pages a second, and the static
writer renders 100k.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from selectolax.lexbor import LexborHTMLParser

from crawler.devtools.fixturesite import DEFAULT_FIXTURES, route_key
from crawler.outlets import OutletSpec, families
from crawler.text.encoding import decode_html

# NDSoft skins and the saved outlet whose pages show each one.
NDSOFT_SKINS = {"2025": "jnilbo", "infomation": "daejonilbo", "2018": "incheonilbo"}

# Any printed or machine date: 2025-12-06 16:43, 2025.12.06 16:43, 2025-12-06T16:43:04+09:00,
# 2026년 02월 22일(일) 18:10, bare 2023-10-18.
_DATE = re.compile(
    r"(?<![\d/])(?P<y>(?:19|20)\d\d)(?P<s1>[-.]|년 ?)(?P<m>\d\d)(?P<s2>[-.]|월 ?)(?P<d>\d\d)(?P<s3>일)?"
    r"(?:(?P<mid>T|(?: ?\([^)<]{1,3}\))? ?)(?P<H>\d\d):(?P<M>\d\d)(?::(?P<S>\d\d))?(?P<z>[+-]\d\d:\d\d)?)?"
)
_MARK = "\ue010"  # private-use marker around slot names while a template is being cut


def fixture_folder(outlet: OutletSpec, root: Path = DEFAULT_FIXTURES) -> Path:
    """The saved site whose pages `outlet`'s simulated pages are made from."""
    own = root / outlet.name
    if (own / "site.json").is_file():
        return own
    if outlet.family == "ndsoft":
        return root / NDSOFT_SKINS.get(outlet.skin or "", "jnilbo")
    return root / outlet.family


@dataclass(frozen=True)
class DateFormat:
    """How one date was printed, so the replacement prints the same way."""

    s1: str
    s2: str
    s3: str
    mid: str | None
    seconds: bool
    zone: bool

    def render(self, when: datetime) -> str:
        text = f"{when:%Y}{self.s1}{when:%m}{self.s2}{when:%d}{self.s3}"
        if self.mid is None:
            return text
        if self.mid.strip().startswith("("):
            weekday = "월화수목금토일"[when.weekday()]
            mid = re.sub(r"\(.*\)", f"({weekday})", self.mid)
        else:
            mid = self.mid
        text += f"{mid}{when:%H}:{when:%M}"
        if self.seconds:
            text += f":{when:%S}"
        if self.zone:
            text += "+09:00"
        return text


class Template:
    """Literal segments and named slots; `render(values)` joins them."""

    def __init__(self, text: str) -> None:
        self.parts: list[str] = []
        self.slots: list[str | None] = []
        pieces = text.split(_MARK)
        # even indices are literal text, odd ones slot names
        for index, piece in enumerate(pieces):
            if index % 2 == 0:
                self.parts.append(piece)
                self.slots.append(None)
            else:
                self.parts.append("")
                self.slots.append(piece)

    def render(self, values: dict[str, str]) -> str:
        return "".join(values[slot] if slot is not None else part for part, slot in zip(self.parts, self.slots))

    def slot_names(self) -> set[str]:
        return {s for s in self.slots if s is not None}


def _slot(name: str) -> str:
    return f"{_MARK}{name}{_MARK}"


@dataclass
class FamilyPages:
    """Article and list page templates of one saved site, plus how it is served."""

    folder: Path
    charset: str | None  # Content-Type charset the real site sends (None: none at all)
    encoding: str  # how its pages are encoded
    article: Template
    dates: dict[str, DateFormat]
    article_url: str  # the saved article's URL: simulated ids replace its last digit run
    list_page: Template | None
    list_item: Template | None

    def render_article(self, *, title: str, body_html: str, when: datetime, url: str) -> str:
        values = {name: fmt.render(when) for name, fmt in self.dates.items()}
        values.update(TITLE=html.escape(title, quote=False), TITLE_ATTR=html.escape(title), BODY=body_html,
                      URL=html.escape(url))
        return self.article.render(values)

    def render_list(self, items: list[tuple[str, str, datetime]], pager_html: str, *, dates: bool = True) -> str:
        assert self.list_page is not None and self.list_item is not None
        rendered = "".join(
            self.list_item.render({"HREF": html.escape(href), "TEXT": html.escape(text, quote=False),
                                   "DATE": f"{when:%Y-%m-%d %H:%M}" if dates else ""})
            for href, text, when in items
        )
        return self.list_page.render({"ITEMS": rendered, "PAGER": pager_html})


def _first_article(folder: Path) -> tuple[Path, dict]:
    for expected in sorted(folder.glob("*.json")):
        if expected.name == "site.json":
            continue
        data = json.loads(expected.read_text(encoding="utf-8"))
        page = expected.with_suffix(".html")
        if "expected" in data and page.is_file() and "seed" not in expected.name:
            return page, data
    raise ValueError(f"{folder}: no saved article page with expected fields")


def _cut_article(text: str, template: object, saved: dict) -> tuple[str, dict[str, DateFormat]]:
    tree = LexborHTMLParser(text)
    title_node = next((tree.css_first(s) for s in template.title if "@" not in s and tree.css_first(s) is not None), None)
    if title_node is not None:
        title_node.inner_html = _slot("TITLE")
    body_node = next((tree.css_first(s) for s in template.body if tree.css_first(s) is not None), None)
    if body_node is None:
        raise ValueError("no body container found by the family template")
    body_node.inner_html = _slot("BODY")
    out = tree.html or ""
    old_title = saved["expected"].get("title") or ""
    if old_title:
        for form in {html.escape(old_title), html.escape(old_title, quote=False), old_title}:
            out = out.replace(form, _slot("TITLE_ATTR"))
    old_url = saved.get("url") or saved["expected"].get("url") or ""
    if old_url:
        out = out.replace(html.escape(old_url), _slot("URL")).replace(old_url, _slot("URL"))
    formats: dict[str, DateFormat] = {}

    def date_slot(match: re.Match[str]) -> str:
        fmt = DateFormat(match["s1"], match["s2"], match["s3"] or "", match["mid"] if match["H"] else None,
                         bool(match["S"]), bool(match["z"]))
        name = f"DATE{len(formats)}"
        for existing, other in formats.items():
            if other == fmt:
                name = existing
                break
        formats[name] = fmt
        return _slot(name)

    return _DATE.sub(date_slot, out), formats


def _cut_list(text: str, template: object, page_param: str) -> tuple[str, str]:
    """(page, item): the saved list page with its item container holding ITEMS, other article
    links and the saved pager removed, PAGER before </body>; and one item's markup with HREF,
    TEXT and DATE slots."""
    tree = LexborHTMLParser(text)
    # the selector with the most matches finds the main list (the first may be one headline)
    links = max((tree.css(selector) for selector in template.list_links), key=len, default=[])  # type: ignore[attr-defined]
    if not links:
        raise ValueError("no article links found by the family's list_links")
    ids = {link.mem_id for selector in template.list_links for link in tree.css(selector)}  # type: ignore[attr-defined]

    def count(node: object) -> int:
        """Distinct article links under `node` (a thumbnail and a headline are one item)."""
        return len({a.attributes.get("href") for a in node.css("a") if a.mem_id in ids})  # type: ignore[attr-defined]

    item = links[0]
    while item.parent is not None and item.parent.tag != "body" and count(item.parent) == 1:
        item = item.parent
    container = item.parent
    assert container is not None
    first = links[0]
    href = first.attributes.get("href") or ""
    link_text = (first.text() or "").strip()
    item_tpl = item.html or ""
    if href:
        for form in (html.escape(href), href):
            item_tpl = item_tpl.replace(f'href="{form}"', f'href="{_slot("HREF")}"')
    if link_text and html.escape(link_text, quote=False) in item_tpl:
        item_tpl = item_tpl.replace(html.escape(link_text, quote=False), _slot("TEXT"), 1)
    else:
        item_tpl = re.sub(r"(<a\b[^>]*>)(.*?)(</a>)", lambda m: m[1] + _slot("TEXT") + m[3], item_tpl, count=1, flags=re.S)
    item_tpl = _DATE.sub(_slot("DATE"), item_tpl)
    container.inner_html = _slot("ITEMS")
    for link in tree.css("a"):
        query = urlsplit(link.attributes.get("href") or "").query
        if link.mem_id in ids or any(name == page_param for name, _ in parse_qsl(query, keep_blank_values=True)):
            link.decompose()  # other lists' article links (sidebars) and the saved pager
    page = (tree.html or "").replace("</body>", _slot("PAGER") + "</body>", 1)
    return page, item_tpl


@cache
def family_pages(folder: Path, list_selectors_from: str, page_param: str) -> FamilyPages:
    """Templates cut from the saved site in `folder` (cached per folder and outlet family)."""
    manifest = json.loads((folder / "site.json").read_text(encoding="utf-8"))
    charset = manifest.get("charset", "utf-8")
    template = families()[list_selectors_from]
    page_path, saved = _first_article(folder)
    raw = page_path.read_bytes()
    text, encoding = decode_html(raw, f"text/html; charset={charset}" if charset else None)
    encoding = "cp949" if encoding.replace("-", "_") in ("cp949", "euc_kr") else "utf-8"
    article_text, formats = _cut_article(text, template, saved)
    list_page = list_item = None
    start = (manifest.get("start_paths") or [None])[0]
    routes = {route_key(k): v for k, v in manifest["routes"].items()}
    list_file = routes.get(route_key(start)) if start else None
    if list_file and list_file.endswith(".html"):
        list_raw = (folder / list_file).read_bytes()
        list_text, _ = decode_html(list_raw, f"text/html; charset={charset}" if charset else None)
        page_part, item_part = _cut_list(list_text, template, page_param)
        list_page, list_item = Template(page_part), Template(item_part)
    return FamilyPages(
        folder=folder,
        charset=charset,
        encoding=encoding,
        article=Template(article_text),
        dates=formats,
        article_url=saved.get("url") or saved["expected"]["url"],
        list_page=list_page,
        list_item=list_item,
    )


def pages_for(outlet: OutletSpec, root: Path = DEFAULT_FIXTURES) -> FamilyPages:
    return family_pages(fixture_folder(outlet, root), outlet.family, outlet.page_param)
