"""Validate (200): drop what must not be stored, each drop with a named, counted reason.

Reasons are stable identifiers (`missing_title`, `body_too_short`, ...), counted in the stats
as `newsdesk/dropped/<reason>`, so an operator (and the monitors) can tell a template change
(suddenly many `body_too_short`) from a bad day.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem


class ArticleDropped(DropItem):
    """DropItem that carries a machine-readable reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class ValidatePipeline:
    """Checks only; `newsdesk extract` runs it without a crawler to warn about a page."""

    def __init__(
        self,
        stats: Any | None = None,
        *,
        min_body_chars: int = 80,
        max_future_skew: timedelta = timedelta(minutes=60),
        oldest_year: int = 1990,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.stats = stats
        self.min_body_chars = min_body_chars
        self.max_future_skew = max_future_skew
        self.oldest_year = oldest_year
        self.now = now or (lambda: datetime.now(timezone.utc))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ValidatePipeline":
        settings = crawler.settings
        return cls(
            crawler.stats,
            min_body_chars=settings.getint("NEWSDESK_MIN_BODY_CHARS", 80),
            max_future_skew=timedelta(minutes=settings.getint("NEWSDESK_MAX_FUTURE_SKEW_MINUTES", 60)),
            oldest_year=settings.getint("NEWSDESK_OLDEST_PUBLISHED_YEAR", 1990),
        )

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        url = adapter.get("url") or "<no url>"
        for name in ("url", "canonical_url", "outlet"):
            if not adapter.get(name):
                self._drop(f"missing_{name}", f"{url} has no {name}")
        if not adapter.get("title"):
            self._drop("missing_title", f"{url} has no title")
        body = adapter.get("body") or ""
        if len(body) < self.min_body_chars:
            if adapter.get("images"):
                # a photo story (포토뉴스): the picture is the article; kept, and counted
                self._count("newsdesk/validate/photo_story")
            else:
                self._drop("body_too_short", f"{url} body has {len(body)} characters, fewer than {self.min_body_chars}")
        published = adapter.get("published")
        if published is None:
            self._drop("missing_published", f"{url} has no publication date")
        if published.tzinfo is None:
            self._drop("naive_published", f"{url} published {published!r} has no time zone")
        if published > self.now() + self.max_future_skew:
            self._drop("published_in_future", f"{url} published {published.isoformat()} is in the future")
        if published.year < self.oldest_year:
            self._drop("published_too_old", f"{url} published {published.isoformat()} is before {self.oldest_year}")
        modified = adapter.get("modified")
        if modified is not None and modified < published:
            # Kept as printed (readers see it), but counted: usually a template mixing up labels.
            self._count("newsdesk/validate/modified_before_published")
        return item

    def _count(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)

    def _drop(self, reason: str, detail: str) -> None:
        self._count(f"newsdesk/dropped/{reason}")
        raise ArticleDropped(reason, detail)
