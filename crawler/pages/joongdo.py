"""중도일보 (joongdo.co.kr) article pages: its own CMS, `/web/view.php?key=...`.

Template facts (research notes, public scrapers of the site; see tests/fixtures/joongdo/README.md):
title `.v-title1` (an h1 on recent pages, a p on others), subtitle `.v-title2`, sections in
`ul.view-section`, dates and reporter in `ul.view-term` (`승인 ...`, `수정 ...`,
`신문게재 2019-08-26 3면`, `li.writer`), body `div#font` (2017 pages: `.left_text_box`) with
<br>-separated lines, photos as `img#newsimg` in a table whose caption cell follows, then the
reporter trailer `세종=오희룡 기자 huily@` and the copyright line. Everything after the copyright
line (기자의 다른기사 보기, 랭킹뉴스, ...) is outside the body container or cut at that line.

Every field falls back to the page's meta tags when the template's element is missing, and
`provenance` records which source gave it, so a template change shows up as fields moving
from "selector" to "meta".
"""

from __future__ import annotations

from functools import cached_property

from selectolax.lexbor import LexborNode

from crawler.items import Article, Image, PrintEdition
from crawler.pages.base import ArticlePage, block_lines
from crawler.text.bylines import Byline, is_byline_line, parse_byline, strip_wire_lead
from crawler.text.clean import is_copyright_line, join_body, normalize_text
from crawler.text.dates import find_labelled_dates, parse_iso_datetime

BODY_SELECTORS = ("div#font", ".left_text_box", ".view-text", "#article_body")
TITLE_SELECTORS = (".v-title1", ".view-head h1", ".left_text_box h2")
SUBTITLE_SELECTORS = (".v-title2", ".v-title-sub", ".view-head h2")
INFO_SELECTORS = ("ul.view-term", ".view-term", ".view-info")
SECTION_SELECTORS = ("ul.view-section a", ".view-section li", ".location a")
SITE_SUFFIXES = (" - 중도일보", " | 중도일보", "- 중도일보", ":: 중도일보")
# Inside the body container but never body text.
NOT_BODY = "table, figure, figcaption, .copyright, .caption, .photo-caption, .ad-banner, .view-reporter-more, iframe, script, style"
# Lines that end the body however the container is built.
BODY_STOPS = ("기자의 다른기사 보기", "랭킹뉴스", "헤드라인 뉴스", "실시간 뉴스", "포토뉴스", "지난 기획시리즈")


class JoongdoArticlePage(ArticlePage):
    # -- header --------------------------------------------------------------------------
    def title(self) -> tuple[str | None, str]:
        for selector in TITLE_SELECTORS:
            text = self.css_text(selector)
            if text:
                return text, "selector"
        meta = self.meta("og:title", "twitter:title") or self.css_text("title")
        return (_strip_site_suffix(meta), "meta") if meta else (None, "none")

    def subtitle(self) -> str | None:
        for selector in SUBTITLE_SELECTORS:
            text = self.css_text(selector)
            if text:
                return text
        return None

    def sections(self) -> list[str]:
        for selector in SECTION_SELECTORS:
            names = [" ".join(n.text().split()) for n in self.tree.css(selector)]
            names = [n for n in names if n]
            if names:
                return list(dict.fromkeys(names))
        section = self.meta("article:section")
        return [section] if section else []

    @cached_property
    def info_text(self) -> str:
        for selector in INFO_SELECTORS:
            node = self.tree.css_first(selector)
            if node is not None:
                return " ".join(normalize_text(line) for line in block_lines(node))
        return ""

    def header_byline(self) -> Byline | None:
        node = self.tree.css_first("ul.view-term li.writer .name") or self.tree.css_first("ul.view-term li.writer")
        candidates = [node.text()] if node is not None else []
        candidates += [
            li.text() for li in self.tree.css("ul.view-term li") if "기자" in (li.text() or "") and not find_labelled_dates(li.text())
        ]
        for text in candidates:
            byline = parse_byline(normalize_text(text))
            if byline and byline.authors:
                return byline
        return None

    # -- body ----------------------------------------------------------------------------
    @cached_property
    def body_node(self) -> LexborNode | None:
        for selector in BODY_SELECTORS:
            node = self.tree.css_first(selector)
            if node is not None:
                return node
        return None

    @cached_property
    def images(self) -> list[Image]:
        if self.body_node is None:
            return []
        images: list[Image] = []
        for img in self.body_node.css("img"):
            src = self.absolute(img.attributes.get("src") or img.attributes.get("data-src"))
            if not src or "/reporter/" in src or "/banner/" in src:
                continue
            images.append(Image(src=src, caption=_caption_for(img)))
        return images

    @cached_property
    def body_parts(self) -> tuple[list[str], list[Byline]]:
        """(paragraphs, bylines found in the body: wire lead first, then trailers)."""
        if self.body_node is None:
            return [], []
        node = self.body_node.clone()  # images are read from the untouched original
        for junk in node.css(NOT_BODY):
            junk.decompose()
        lines = [normalize_text(line) for line in block_lines(node)]
        paragraphs: list[str] = []
        for line in lines:
            if not line:
                continue
            if is_copyright_line(line) or line in BODY_STOPS:
                break
            paragraphs.append(line)
        bylines: list[Byline] = []
        # Reporter trailers at the end (`세종=오희룡 기자 huily@`), possibly more than one.
        while paragraphs and is_byline_line(paragraphs[-1]):
            byline = parse_byline(paragraphs.pop())
            if byline:
                bylines.insert(0, byline)
        if paragraphs:
            rest, lead = strip_wire_lead(paragraphs[0])
            if lead is not None:
                bylines.insert(0, lead)
                if rest:
                    paragraphs[0] = rest
                else:
                    paragraphs.pop(0)
        return paragraphs, bylines

    # -- the article ---------------------------------------------------------------------
    def to_article(self) -> Article:
        provenance: dict[str, str] = {}
        title, provenance["title"] = self.title()
        dates = find_labelled_dates(self.info_text)
        published = next((d.value for d in dates if d.kind == "published"), None)
        modified = next((d.value for d in reversed(dates) if d.kind == "modified"), None)
        provenance["published"] = "selector" if published else "none"
        if published is None:
            published = parse_iso_datetime(self.meta("article:published_time") or "")
            provenance["published"] = "meta" if published else "none"
        if modified is None:
            modified = parse_iso_datetime(self.meta("article:modified_time") or "")
            if modified is not None:
                provenance["modified"] = "meta"
        else:
            provenance["modified"] = "selector"
        printed = next((d for d in dates if d.kind == "print"), None)
        print_edition = PrintEdition(date=printed.value.date().isoformat(), page=printed.page) if printed else None

        paragraphs, body_bylines = self.body_parts
        header = self.header_byline()
        authors: list[str] = []
        for byline in ([header] if header else []) + body_bylines:
            authors.extend(a for a in byline.authors if a not in authors)
        region = next((b.region for b in reversed(body_bylines) if b.region), None)
        wire = next((b.wire for b in body_bylines if b.wire), None)
        provenance["authors"] = "selector" if header else ("text" if authors else "none")
        provenance["body"] = "selector" if paragraphs else "none"

        url = self.url
        canonical = self.outlet.canonicalize(url) if self.outlet is not None else url
        return Article(
            outlet=self.outlet.name if self.outlet is not None else "joongdo",
            url=url,
            canonical_url=canonical,
            title=title or "",
            subtitle=self.subtitle(),
            sections=self.sections(),
            published=published,
            modified=modified,
            print_edition=print_edition,
            authors=authors,
            region=region,
            wire=wire,
            body=join_body(paragraphs),
            images=self.images,
            provenance=provenance,
        )


def _strip_site_suffix(title: str) -> str:
    for suffix in SITE_SUFFIXES:
        if title.endswith(suffix):
            return title[: -len(suffix)].strip()
    return title.strip()


def _caption_for(img: LexborNode) -> str | None:
    """The caption printed with a photo: figcaption, the table's caption cell, or alt-less text."""
    node = img.parent
    while node is not None and node.tag not in ("table", "figure", "div", "body"):
        node = node.parent
    if node is None:
        return None
    if node.tag == "figure":
        cap = node.css_first("figcaption")
    elif node.tag == "table":
        cap = node.css_first(".caption") or _other_cells_text(node)
    else:
        cap = node.css_first(".caption, .photo-caption")
    if isinstance(cap, str):
        return cap or None
    text = normalize_text(cap.text()) if cap is not None else ""
    return text or None


def _other_cells_text(table: LexborNode) -> str:
    cells = [normalize_text(td.text()) for td in table.css("td") if td.css_first("img") is None]
    return " ".join(c for c in cells if c)

