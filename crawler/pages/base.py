"""Page-object basics: HTML + URL in, fields out, no Scrapy.

Parsing is selectolax (lexbor), a fraction of what parsel (lxml) costs per page
(bench/stages_bench.py times both on the same pages), and extraction runs once per article.
Outlet page classes subclass
ArticlePage and override only the fields their template prints differently; the helpers here
(meta tags, JSON-LD, block text) are what every family needs.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any, Iterator
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.items import Article
from crawler.text.encoding import decode_html

# Block-level tags end a line of text; inline tags do not (a <b> inside a sentence must not
# split it into two paragraphs).
BLOCK_TAGS = frozenset(
    "address article aside blockquote dd div dl dt figcaption figure footer form h1 h2 h3 h4 "
    "h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
# Never text: removed before any text is read.
NON_TEXT_TAGS = frozenset("script style noscript template iframe object embed svg button input select textarea".split())


def block_lines(node: LexborNode) -> list[str]:
    """The node's text as lines: <br> and block boundaries break lines, inline tags do not."""
    parts: list[str] = []

    def walk(current: LexborNode) -> None:
        for child in current.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                parts.append(child.text_content or "")
            elif tag == "br":
                parts.append("\n")
            elif tag in NON_TEXT_TAGS or tag == "-comment":
                continue
            elif tag in BLOCK_TAGS:
                parts.append("\n")
                walk(child)
                parts.append("\n")
            else:
                walk(child)

    walk(node)
    return [line for line in "".join(parts).split("\n")]


class ArticlePage:
    """Base page object: the parsed tree and the helpers every family uses."""

    def __init__(self, url: str, html: str | bytes, outlet: Any | None = None, *, content_type: str | None = None) -> None:
        """`html` as bytes is decoded here (header charset, <meta>, the outlet's encoding, CP949)."""
        self.url = url
        if isinstance(html, bytes):
            declared = getattr(outlet, "encoding", None)
            self.html, self.encoding = decode_html(html, content_type, declared)
        else:
            self.html, self.encoding = html, "unicode"
        self.outlet = outlet

    @cached_property
    def tree(self) -> LexborHTMLParser:
        return LexborHTMLParser(self.html)

    # -- helpers -------------------------------------------------------------------------
    def css_text(self, selector: str) -> str | None:
        node = self.tree.css_first(selector)
        if node is None:
            return None
        text = " ".join(node.text(separator=" ").split())
        return text or None

    def meta(self, *names: str) -> str | None:
        """Content of the first <meta property|name=...> present among `names`."""
        for name in names:
            for attr in ("property", "name", "itemprop"):
                node = self.tree.css_first(f'meta[{attr}="{name}"]')
                if node is not None:
                    value = (node.attributes.get("content") or "").strip()
                    if value:
                        return value
        return None

    def link_canonical(self) -> str | None:
        node = self.tree.css_first('link[rel="canonical"]')
        href = node.attributes.get("href") if node is not None else None
        return urljoin(self.url, href) if href else None

    @cached_property
    def json_ld(self) -> list[dict[str, Any]]:
        """Every JSON-LD object on the page (graphs flattened); broken blocks are skipped."""
        found: list[dict[str, Any]] = []
        for node in self.tree.css('script[type="application/ld+json"]'):
            try:
                data = json.loads(node.text() or "")
            except ValueError:
                continue
            found.extend(_flatten_ld(data))
        return found

    def json_ld_article(self) -> dict[str, Any] | None:
        for obj in self.json_ld:
            kinds = obj.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if any(k in ("NewsArticle", "Article", "ReportageNewsArticle") for k in kinds):
                return obj
        return None

    def absolute(self, href: str | None) -> str | None:
        return urljoin(self.url, href.strip()) if href and href.strip() else None

    def to_article(self) -> Article:  # pragma: no cover - abstract
        raise NotImplementedError


def _flatten_ld(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for entry in data:
            yield from _flatten_ld(entry)
    elif isinstance(data, dict):
        if "@graph" in data:
            yield from _flatten_ld(data["@graph"])
        else:
            yield data
