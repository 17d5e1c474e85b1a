"""Generic extraction: what any news page says about itself, for when a template misses.

Order of trust per field: JSON-LD NewsArticle, then og:/article: meta tags, then (body only)
trafilatura. Used two ways: field by field behind TemplateArticlePage, and whole for pages of
domains no outlet spec knows (`newsdesk extract` on an unknown site). Each getter returns
(value, source) so the article's provenance says which method produced the field.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from crawler.items import Article
from crawler.text.bylines import is_byline_line, parse_byline, strip_wire_lead
from crawler.text.clean import is_copyright_line, join_body, normalize_text
from crawler.text.dates import parse_iso_datetime

if TYPE_CHECKING:
    from crawler.pages.base import ArticlePage

PUBLISHED_META = ("article:published_time", "og:article:published_time", "datePublished", "pubdate", "publish-date", "date")
MODIFIED_META = ("article:modified_time", "og:article:modified_time", "og:updated_time", "dateModified")
AUTHOR_META = ("dable:author", "author", "article:author", "byl")


class GenericFields:
    """Field getters over a parsed page (an ArticlePage gives the tree and meta helpers)."""

    def __init__(self, page: "ArticlePage") -> None:
        self.page = page

    @cached_property
    def ld(self) -> dict[str, Any]:
        return self.page.json_ld_article() or {}

    def title(self) -> tuple[str | None, str]:
        headline = self.ld.get("headline")
        if isinstance(headline, str) and headline.strip():
            return normalize_text(headline), "jsonld"
        meta = self.page.meta("og:title", "twitter:title")
        if meta:
            return normalize_text(meta), "meta"
        title = self.page.css_text("title")
        return (normalize_text(title), "meta") if title else (None, "none")

    def _date(self, ld_key: str, meta_names: tuple[str, ...]) -> tuple[datetime | None, str]:
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
        return self._date("datePublished", PUBLISHED_META)

    def modified(self) -> tuple[datetime | None, str]:
        return self._date("dateModified", MODIFIED_META)

    def authors(self) -> tuple[list[str], str]:
        names = _ld_names(self.ld.get("author"))
        source = "jsonld"
        if not names:
            meta = self.page.meta(*AUTHOR_META)
            names = [meta] if meta and not meta.startswith("http") else []
            source = "meta"
        authors: list[str] = []
        for name in names:
            byline = parse_byline(name) or parse_byline(f"{name} 기자")
            for author in (byline.authors if byline else []):
                if author not in authors:
                    authors.append(author)
        return (authors, source) if authors else ([], "none")

    def body(self) -> tuple[str, str]:
        ld_body = self.ld.get("articleBody")
        if isinstance(ld_body, str) and len(ld_body.strip()) >= 80:
            return clean_body_lines(ld_body.splitlines()), "jsonld"
        text = trafilatura_text(self.page.html)
        return (clean_body_lines(text.splitlines()), "trafilatura") if text else ("", "none")


def _ld_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return [name] if isinstance(name, str) else []
    if isinstance(value, list):
        return [n for item in value for n in _ld_names(item)]
    return []


def clean_body_lines(lines: list[str]) -> str:
    """Body text from generic extractors: stop at the copyright line, drop trailers and leads."""
    paragraphs: list[str] = []
    for raw in lines:
        line = normalize_text(raw)
        if not line:
            continue
        if is_copyright_line(line):
            break
        paragraphs.append(line)
    while paragraphs and is_byline_line(paragraphs[-1]):
        paragraphs.pop()
    if paragraphs:
        rest, lead = strip_wire_lead(paragraphs[0])
        if lead is not None:
            paragraphs[0:1] = [rest] if rest else []
    return join_body(paragraphs)


def trafilatura_text(html: str) -> str:
    """Main text by trafilatura (imported on first use: it is the slow path)."""
    import warnings

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
        from crawler.pages.base import ArticlePage

        self.page = ArticlePage(url, html, outlet, content_type=content_type)
        self.fields = GenericFields(self.page)

    def to_article(self) -> Article:
        from crawler.text.urls import canonicalize_url

        page = self.page
        title, title_src = self.fields.title()
        published, pub_src = self.fields.published()
        modified, mod_src = self.fields.modified()
        authors, auth_src = self.fields.authors()
        body, body_src = self.fields.body()
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
            provenance=provenance,
        )
