"""Normalize (100): one shape for every outlet before anything judges or stores it.

Text fields get Unicode NFC and collapsed whitespace, dates become aware Asia/Seoul datetimes
(a naive one is read as KST, the only zone Korean outlets print, and counted), author lists are
split and de-duplicated, the canonical URL follows the outlet's own rules (from its spec, by the
item's `outlet`; generic rules for unknown outlets), and two hashes are computed:
`body_hash` (the body alone, whitespace-insensitive: exact duplicates) and `content_hash`
(every stored content field: the store rewrites an article only when this changes).
An item whose fields cannot be normalized is dropped with a counted reason.

The work is a pure function of the item, so the parse worker does it ahead (NormalizeStep,
the pipeline's `prepare_step`: crawler/prepare.py); the pipeline then takes the item as the
worker left it, counting what normalizing counted, if every field is still as it was left.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, ClassVar

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from crawler.items import item_dict
from crawler.outlets import registry
from crawler.prepare import MISSING, PrepareStep, take
from crawler.text.bylines import parse_byline
from crawler.text.clean import normalize_body, normalize_text
from crawler.text.dates import KST
from crawler.text.urls import canonicalize_url
from pipelines.validate import ArticleDropped

TEXT_FIELDS = ("title", "region", "wire")
DATE_FIELDS = ("published", "modified")
# Everything a reader or analyst sees; bookkeeping (hashes, provenance, seen times) is not content.
CONTENT_FIELDS = ("title", "subtitle", "body", "sections", "published", "modified", "print_edition",
                  "authors", "region", "wire", "images")


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def body_hash(body: str | None) -> str:
    """The body with all whitespace removed: the same text laid out differently hashes alike."""
    return _digest("".join((body or "").split()))


def content_hash(doc: dict[str, Any]) -> str:
    """Stable hash of every content field; whitespace inside text does not change it."""

    def canon(value: Any) -> Any:
        if isinstance(value, str):
            return " ".join(value.split())
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: canon(v) for k, v in sorted(value.items())}
        if isinstance(value, (list, tuple)):
            return [canon(v) for v in value]
        return value

    payload = {name: canon(doc.get(name)) for name in CONTENT_FIELDS}
    return _digest(json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str))


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


def canonical_for(outlet: str | None, url: str) -> str:
    """The outlet's canonical form of `url` (its spec's rules), generic rules otherwise."""
    spec = registry().get(outlet or "")
    if spec is not None and spec.owns(url):
        return spec.canonicalize(url)
    return canonicalize_url(url, force_https=False)


class _Counts:
    """The stats keys normalizing one article counts (where no crawler's stats are at hand)."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.keys.extend([key] * count)


class NormalizeStep:
    """Normalizing, done in the parse worker (a PrepareStep, crawler/prepare.py). Its result is
    the stats keys normalizing counted (the pipeline counts them where the stats are); its
    basis is every field's value as normalizing left it. Fields that cannot be normalized are
    left for the pipeline, which drops the item with its reason."""

    name = "normalize"

    def run(self, article: Any) -> tuple[tuple[str, ...], tuple[Any, ...]] | None:
        counts = _Counts()
        try:
            NormalizePipeline(counts)._normalize(ItemAdapter(article))
        except (TypeError, ValueError):
            return None
        return tuple(counts.keys), self.basis(article)

    def basis(self, item: Any) -> tuple[Any, ...]:
        return tuple(item_dict(item).values())


class NormalizePipeline:
    """Stateless apart from the stats it counts into, so `newsdesk extract` reuses it as is."""

    prepare_step: ClassVar[PrepareStep] = NormalizeStep()  # run by the parse worker; process_item takes its record

    def __init__(self, stats: Any | None = None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "NormalizePipeline":
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        counted = take(item, self.prepare_step)
        if counted is not MISSING:  # normalized by the parse worker, and unchanged since
            if self.stats is not None:
                for key in counted:
                    self.stats.inc_value(key)
            return item
        adapter = ItemAdapter(item)
        try:
            self._normalize(adapter)
        except (TypeError, ValueError) as exc:
            reason = "malformed_fields"
            if self.stats is not None:
                self.stats.inc_value(f"newsdesk/dropped/{reason}")
            raise ArticleDropped(reason, f"{adapter.get('url') or '<no url>'}: {exc}") from exc
        return item

    def _normalize(self, adapter: ItemAdapter) -> None:
        for name in TEXT_FIELDS:
            if name in adapter and adapter.get(name) is not None:
                adapter[name] = normalize_text(adapter[name]) or None
        if adapter.get("subtitle"):
            # a deck printed on several lines keeps one line each
            lines = [normalize_text(line) for line in adapter["subtitle"].split("\n")]
            adapter["subtitle"] = "\n".join(line for line in lines if line) or None
        if adapter.get("subtitle") and adapter.get("subtitle") == adapter.get("title"):
            adapter["subtitle"] = None
        adapter["title"] = adapter.get("title") or ""
        adapter["body"] = normalize_body(adapter.get("body") or "")
        if adapter.get("sections"):
            adapter["sections"] = list(dict.fromkeys(s for s in (normalize_text(x) for x in adapter["sections"]) if s))
        adapter["authors"] = split_authors(list(adapter.get("authors") or []))
        for name in DATE_FIELDS:
            adapter[name] = self._to_kst(adapter.get(name), name)
        canonical = adapter.get("canonical_url") or adapter.get("url")
        if canonical:
            adapter["canonical_url"] = canonical_for(adapter.get("outlet"), canonical)
        adapter["body_hash"] = body_hash(adapter["body"])
        adapter["content_hash"] = content_hash(item_dict(adapter.item))

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
