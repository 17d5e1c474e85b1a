"""Generic extraction: what any news page says about itself, for when a template misses.

Order of trust per field: JSON-LD NewsArticle, then og:/article: meta tags, then (body only)
trafilatura. Used two ways: field by field behind TemplateArticlePage, and whole for pages of
domains no outlet spec knows (`newsdesk extract` on an unknown site). Each getter returns
(value, source) so the article's provenance says which method produced the field.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from crawler.items import Article
from crawler.pages.base import ArticlePage, block_lines
from crawler.text.bylines import Byline, is_byline_line, parse_byline, strip_wire_lead
from crawler.text.clean import is_copyright_line, join_body, normalize_text
from crawler.text.dates import find_labelled_dates, parse_iso_datetime
from crawler.text.urls import canonicalize_url

PUBLISHED_META = ("article:published_time", "og:article:published_time", "datePublished", "pubdate", "publish-date", "date")
MODIFIED_META = ("article:modified_time", "og:article:modified_time", "og:updated_time", "dateModified")
AUTHOR_META = ("dable:author", "author", "article:author", "og:article:author", "byl")
PRINTED_VS_META = timedelta(hours=12)
NEAR_LABEL_AFTER, NEAR_LABEL_BEFORE = 200, 60  # characters between a 수정 label and the 입력 label
# Elements whose whole text may be a reporter credit (`홍길동 기자`, `기자명 홍길동`).
BYLINE_CANDIDATES = "span, li, p, em, strong, div, dd, address, a"


class GenericFields:
    """Field getters over a parsed page (an ArticlePage gives the tree and meta helpers)."""

    def __init__(self, page: ArticlePage) -> None:
        self.page = page
        self.body_bylines: list[Byline] = []  # filled by body(): trailers and wire lead it removed
        self.credit_bylines: list[Byline] = []  # filled by authors(): the credit it read

    @cached_property
    def ld(self) -> dict[str, Any]:
        return self.page.json_ld_article() or {}

    def title(self) -> tuple[str | None, str]:
        headline = self.ld.get("headline")
        if isinstance(headline, str) and headline.strip():
            return normalize_text(headline), "jsonld"
        meta = self.page.meta("og:title", "twitter:title")
        if meta:
            return self._without_site_name(normalize_text(meta)), "meta"
        title = self.page.css_text("title")
        return (self._without_site_name(normalize_text(title)), "meta") if title else (None, "none")

    def _without_site_name(self, title: str) -> str:
        """`제목 - 중도일보` -> `제목`, when the page names itself (og:site_name)."""
        site = self.page.meta("og:site_name")
        if site:
            for sep in (" - ", " | ", " :: ", " : ", " < "):
                if title.endswith(sep + site):
                    return title[: -len(sep + site)].strip()
                if title.startswith(site + sep):
                    return title[len(site + sep):].strip()
        return title

    @cached_property
    def printed_text(self) -> str:
        body = self.page.tree.body
        if body is None:
            return ""
        return " ".join(line.strip() for line in block_lines(body) if line.strip())

    @cached_property
    def printed_dates(self) -> list:
        """Labelled dates printed anywhere in the page text (입력/승인/수정 ...), in page order."""
        return find_labelled_dates(self.printed_text)

    def _near_published(self, label: Any) -> bool:
        """A 수정 label printed close to the article's 입력 label (not a site-wide 업데이트 line)."""
        text = self.printed_text
        first = next((d for d in self.printed_dates if d.kind == "published"), None)
        if first is None:
            return False
        # usually printed after 입력; NDSoft 2025 prints `업데이트 ... 입력 ...` right before it
        distance = text.find(label.raw) - text.find(first.raw)
        return -NEAR_LABEL_BEFORE <= distance <= NEAR_LABEL_AFTER

    def _structured_date(self, ld_key: str, meta_names: tuple[str, ...]) -> tuple[datetime | None, str]:
        value = self.ld.get(ld_key)
        if isinstance(value, str):
            parsed = parse_iso_datetime(value)
            if parsed is not None:
                return parsed, "jsonld"
        meta = self.page.meta(*meta_names)
        if meta:
            parsed = parse_iso_datetime(meta)
            if parsed is not None:
                return parsed, "meta"
        return None, "none"

    def published(self) -> tuple[datetime | None, str]:
        """The printed 입력/승인 time when it agrees with the metadata, else the metadata.

        Readers see the printed time (meta often differs by seconds or minutes), but a label
        found anywhere on the page could belong to something else, so a printed time far
        from the metadata's is not trusted.
        """
        structured, source = self._structured_date("datePublished", PUBLISHED_META)
        printed = [d.value for d in self.printed_dates if d.kind == "published"]
        if printed and (structured is None or abs(printed[0] - structured) <= PRINTED_VS_META):
            return printed[0], "text"
        return structured, source

    def modified(self) -> tuple[datetime | None, str]:
        """A printed 수정/업데이트 time; metadata only when the page prints no dates at all
        (a CMS's dateModified is often its last touch of the record, not a correction)."""
        printed = [d.value for d in self.printed_dates if d.kind == "modified" and self._near_published(d)]
        if printed:
            return printed[-1], "text"
        if self.printed_dates:
            return None, "none"
        modified, source = self._structured_date("dateModified", MODIFIED_META)
        published, _ = self._structured_date("datePublished", PUBLISHED_META)
        if modified is None or modified == published:
            return None, "none"
        return modified, source

    def authors(self) -> tuple[list[str], str]:
        """Names from JSON-LD or meta author, else the first element that is a whole byline."""
        names = _ld_names(self.ld.get("author"))
        source = "jsonld"
        if not names:
            meta = self.page.meta(*AUTHOR_META)
            names = [meta] if meta and not meta.startswith("http") else []
            source = "meta"
        authors: list[str] = []
        for name in names:
            byline = parse_byline(name) or parse_byline(f"{name} 기자")
            if byline is not None:
                self.credit_bylines.append(byline)
                authors.extend(a for a in byline.authors if a not in authors)
        if authors:
            return authors, source
        for node in self.page.tree.css(BYLINE_CANDIDATES):
            text = normalize_text(node.text(separator=" "))
            if 3 <= len(text) <= 40 and "기자" in text and is_byline_line(text):
                byline = parse_byline(text)
                if byline is not None and byline.authors:
                    self.credit_bylines.append(byline)
                    return list(byline.authors), "text"
        return [], "none"

    def body(self) -> tuple[str, str]:
        """JSON-LD articleBody, else the better of trafilatura and the densest text block.

        trafilatura misses bodies written as bare text with <br> (common on Korean CMSs: it
        keeps only the photo caption of such a page), which the density pick finds; where
        both work, trafilatura's boilerplate removal is preferred.
        """
        ld_body = self.ld.get("articleBody")
        if isinstance(ld_body, str) and len(ld_body.strip()) >= 80:
            return clean_body_lines(ld_body.splitlines(), self.body_bylines), "jsonld"
        text = trafilatura_text(self.page.html)
        traf_bylines: list[Byline] = []
        traf = clean_body_lines(text.splitlines(), traf_bylines) if text else ""
        dense_bylines: list[Byline] = []
        dense = densest_block_text(self.page, dense_bylines)
        if len(dense) > 1.5 * len(traf):
            self.body_bylines[:] = dense_bylines
            return dense, "density"
        self.body_bylines[:] = traf_bylines
        return (traf, "trafilatura") if traf else ("", "none")


def _ld_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return [name] if isinstance(name, str) else []
    if isinstance(value, list):
        return [n for item in value for n in _ld_names(item)]
    return []


def clean_body_lines(lines: list[str], bylines: list[Byline] | None = None) -> str:
    """Body text from generic extractors: stop at the copyright line, drop trailers and leads.

    The reporter trailers and wire lead removed are appended to `bylines` when given, so
    generic extraction still learns the authors and the dateline region.
    """
    found = bylines if bylines is not None else []
    paragraphs: list[str] = []
    for raw in lines:
        line = normalize_text(raw)
        if not line:
            continue
        if is_copyright_line(line):
            break
        paragraphs.append(line)
    while paragraphs and is_byline_line(paragraphs[-1]):
        byline = parse_byline(paragraphs.pop())
        if byline is not None:
            found.insert(0, byline)
    if paragraphs:
        rest, lead = strip_wire_lead(paragraphs[0])
        if lead is not None:
            paragraphs[0:1] = [rest] if rest else []
            found.insert(0, lead)
    return join_body(paragraphs)


_DENSITY_CANDIDATES = "div, article, section, td, main"
_NOT_TEXT = "script, style, noscript, table, figure, figcaption, iframe, form, nav, header, footer, aside, ul, ol, button"


def densest_block_text(page: ArticlePage, bylines: list[Byline] | None = None) -> str:
    """Body text of the element holding the most text of its own (text nodes and <p> children).

    Link-heavy blocks (menus, related-article lists) score low because text inside <a> is not
    counted. Cheap: one pass over candidate elements with selectolax.
    """
    best, best_score = None, 0
    for node in page.tree.css(_DENSITY_CANDIDATES):
        score = 0
        for child in node.iter(include_text=True):
            if child.tag == "-text":
                score += len((child.text_content or "").strip())
            elif child.tag == "p":
                score += len(child.text(deep=True).strip()) - sum(len(a.text()) for a in child.css("a"))
        if score > best_score:
            best, best_score = node, score
    if best is None or best_score < 200:
        return ""
    clone = best.clone()
    for junk in clone.css(_NOT_TEXT):
        if junk.mem_id != clone.mem_id:
            junk.decompose()
    return clean_body_lines(block_lines(clone), bylines)


def trafilatura_text(html: str) -> str:
    """Main text by trafilatura (imported on first use: it is the slow path, and a process
    whose pages all match their templates never loads it)."""
    import trafilatura

    with warnings.catch_warnings():  # trafilatura 2.x's own FutureWarning about lxml truth tests
        warnings.simplefilter("ignore", FutureWarning)
        return _trafilatura_extract(trafilatura, html)


def _trafilatura_extract(trafilatura: Any, html: str) -> str:
    return trafilatura.extract(
        html,
        output_format="txt",
        include_comments=False,
        include_tables=False,
        include_images=False,
        favor_precision=True,
        deduplicate=False,
        with_metadata=False,
    ) or ""


class GenericArticlePage:
    """A page of a domain no outlet spec knows: every field from generic extraction."""

    def __init__(self, url: str, html: str | bytes, outlet: Any | None = None, *, content_type: str | None = None) -> None:
        self.page = ArticlePage(url, html, outlet, content_type=content_type)
        self.fields = GenericFields(self.page)

    def to_article(self) -> Article:
        page = self.page
        title, title_src = self.fields.title()
        published, pub_src = self.fields.published()
        modified, mod_src = self.fields.modified()
        body, body_src = self.fields.body()
        authors, auth_src = self.fields.authors()
        bylines = self.fields.credit_bylines + self.fields.body_bylines
        if not authors:
            authors = list(dict.fromkeys(a for b in bylines for a in b.authors))
            auth_src = "text" if authors else "none"
        region = next((b.region for b in reversed(bylines) if b.region), None)
        wire = next((b.wire for b in bylines if b.wire), None)
        canonical = page.link_canonical() or page.meta("og:url") or page.url
        try:
            canonical = canonicalize_url(canonical, force_https=False)
        except ValueError:
            canonical = page.url
        provenance = {"title": title_src, "published": pub_src, "authors": auth_src, "body": body_src}
        if modified is not None:
            provenance["modified"] = mod_src
        section = page.meta("article:section")
        return Article(
            outlet="unknown",
            url=page.url,
            canonical_url=canonical,
            title=title or "",
            body=body,
            sections=[section] if section else [],
            published=published,
            modified=modified,
            authors=authors,
            region=region,
            wire=wire,
            provenance=provenance,
        )
