"""Normalize (100): one shape for every outlet before anything judges or stores it.

Text fields get Unicode NFC and collapsed whitespace, dates become aware Asia/Seoul datetimes
(a naive one is read as KST, the only zone Korean outlets print, and counted), author lists are
split and de-duplicated, the canonical URL is passed through the generic canonicalizer, and a
content hash of title + subtitle + body is computed for change detection in the store.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from crawler.text.bylines import parse_byline
from crawler.text.clean import normalize_text
from crawler.text.dates import KST
from crawler.text.urls import canonicalize_url

TEXT_FIELDS = ("title", "region", "wire")
DATE_FIELDS = ("published", "modified")


def content_hash(title: str | None, subtitle: str | None, body: str | None) -> str:
    """Stable hash of what a reader reads; whitespace differences do not change it."""
    canon = "\x1f".join(" ".join((part or "").split()) for part in (title, subtitle, body))
    return hashlib.blake2b(canon.encode("utf-8"), digest_size=16).hexdigest()


def split_authors(names: list[str]) -> list[str]:
    """`["홍길동·김철수 기자", "홍길동"]` -> `["홍길동", "김철수"]`: split, strip titles, dedupe."""
    result: list[str] = []
    for raw in names:
        raw = normalize_text(raw or "")
        if not raw:
            continue
        byline = parse_byline(raw if "기자" in raw else f"{raw} 기자")
        candidates = byline.authors if byline and byline.authors else [raw]
        for name in candidates:
            if name and name not in result:
                result.append(name)
    return result


def normalize_body(body: str) -> str:
    paragraphs = [normalize_text(p) for p in (body or "").split("\n")]
    return "\n\n".join(p for p in paragraphs if p)


class NormalizePipeline:
    """Stateless apart from the stats it counts into, so `newsdesk extract` reuses it as is."""

    def __init__(self, stats: Any | None = None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "NormalizePipeline":
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        for name in TEXT_FIELDS:
            if name in adapter and adapter.get(name) is not None:
                adapter[name] = normalize_text(adapter[name]) or None
        if adapter.get("subtitle"):
            # a deck printed on several lines keeps one line each
            lines = [normalize_text(line) for line in adapter["subtitle"].split("\n")]
            adapter["subtitle"] = "\n".join(line for line in lines if line) or None
        adapter["body"] = normalize_body(adapter.get("body") or "")
        if adapter.get("sections"):
            adapter["sections"] = [s for s in (normalize_text(x) for x in adapter["sections"]) if s]
        adapter["authors"] = split_authors(list(adapter.get("authors") or []))
        for name in DATE_FIELDS:
            adapter[name] = self._to_kst(adapter.get(name), name)
        canonical = adapter.get("canonical_url") or adapter.get("url")
        if canonical:
            adapter["canonical_url"] = canonicalize_url(canonical, force_https=False)
        adapter["content_hash"] = content_hash(adapter.get("title"), adapter.get("subtitle"), adapter.get("body"))
        return item

    def _to_kst(self, value: datetime | None, name: str) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"field {name!r}: expected a datetime, got {type(value).__name__} {value!r}")
        if value.tzinfo is None:
            if self.stats is not None:
                self.stats.inc_value(f"newsdesk/normalize/naive_{name}_as_kst")
            return value.replace(tzinfo=KST)
        return value.astimezone(KST)
