"""Dedup (300): exact duplicates within an outlet, story clusters across outlets.

- Exact: the same body (body_hash) at a second URL of the same outlet is the same article:
  the item is marked `alias_of` the stored one, and the store records the URL as an alias
  instead of storing the article twice.
- Near: the story signature (MinHashes of the story text and its lead, a sampled record of
  its 5-grams by sentence, its numbers, title and lead days) is looked up in the
  StoryIndex; the item gets the story_id of the closest earlier copy that passes the
  comparison (crawler.dedup.stories), or a new one.

The index is rebuilt from Mongo at spider open (articles first seen in the last
NEWSDESK_STORY_WINDOW_DAYS, an indexed range scan) on a thread, then topped up every
NEWSDESK_STORY_REFRESH_SECONDS with what other crawl processes stored meanwhile, so two
outlets crawled at the same time mostly agree on a story's id; lookups are in-memory and
take microseconds, signatures about a millisecond. Counts: newsdesk/dedup/*.
"""

from __future__ import annotations

import logging
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from crawler.dedup.stories import DEFAULT_THRESHOLD, StoryIndex, signature, to_bytes
from crawler.store import ArticleStore, database_name, get_client, resolve_uri, store_env

logger = logging.getLogger(__name__)


class DedupPipeline:
    def __init__(self, crawler: Crawler, env: dict[str, str]) -> None:
        self.stats = crawler.stats
        self.env = env
        settings = crawler.settings
        self.window = timedelta(days=settings.getfloat("NEWSDESK_STORY_WINDOW_DAYS", 7))
        self.index = StoryIndex(threshold=settings.getfloat("NEWSDESK_STORY_THRESHOLD", DEFAULT_THRESHOLD))
        # (outlet, body_hash, title without spaces) -> canonical_url: a boilerplate body under
        # two different titles is two articles, not one
        self.exact: dict[tuple[str, str, str], str] = {}
        self.refresh_seconds = settings.getfloat("NEWSDESK_STORY_REFRESH_SECONDS", 60)
        self.client: Any = None
        self.store: ArticleStore | None = None
        self.loaded_until: datetime | None = None
        self._loop: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "DedupPipeline":
        if not crawler.settings.getbool("NEWSDESK_DEDUP_ENABLED", True):
            raise NotConfigured("NEWSDESK_DEDUP_ENABLED is off")
        if not crawler.settings.getbool("NEWSDESK_STORE_ENABLED", True):
            raise NotConfigured("no store: nothing to compare stories with")
        return cls(crawler, store_env(crawler.settings))

    async def open_spider(self) -> None:
        loaded, seconds, peak = await maybe_deferred_to_future(threads.deferToThread(self._rebuild))
        self.stats.set_value("newsdesk/dedup/index_loaded", loaded)
        self.stats.set_value("newsdesk/dedup/index_load_seconds", round(seconds, 2))
        self.stats.set_value("newsdesk/dedup/index_peak_mb", round(peak / 2**20, 1))
        logger.info("story index: %d articles from the last %s, %.1f s", loaded, self.window, seconds)
        if self.refresh_seconds > 0:
            from twisted.internet import task

            self._loop = task.LoopingCall(self._refresh)
            self._loop.start(self.refresh_seconds, now=False)

    async def close_spider(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self.client is not None:
            await maybe_deferred_to_future(threads.deferToThread(self.client.close))

    def _refresh(self) -> Any:
        """Add what other processes stored since the last load (runs the query on a thread)."""
        since = self.loaded_until
        if self.store is None or since is None:
            return None
        until = datetime.now(timezone.utc)
        d = threads.deferToThread(lambda: list(self.store.signatures_since(since - timedelta(seconds=5))))
        d.addCallback(self._merge_rows, until)
        d.addErrback(lambda failure: logger.warning("story index refresh failed: %s", failure.getErrorMessage()))
        return d

    def _merge_rows(self, rows: list[dict[str, Any]], until: datetime) -> None:
        added = self._remember([row for row in rows if row.get("canonical_url") not in self.index.stories])
        self.loaded_until = until
        if added:
            self.stats.inc_value("newsdesk/dedup/index_refreshed", added)

    def _rebuild(self) -> tuple[int, float, int]:
        started = time.perf_counter()
        trace = not tracemalloc.is_tracing()  # never switch off tracing someone else started
        if trace:
            tracemalloc.start()
        try:
            self.client = get_client(resolve_uri(self.env))
            self.store = ArticleStore(self.client[database_name(self.env)])
            until = datetime.now(timezone.utc)
            rows = list(self.store.signatures_since(until - self.window))
            self.loaded_until = until
            loaded = self._remember(rows)
            peak = tracemalloc.get_traced_memory()[1] if trace else 0
        finally:
            if trace:
                tracemalloc.stop()
        if self.index.skipped:
            self.stats.set_value("newsdesk/dedup/index_unreadable", self.index.skipped)
        if self.index.stale:  # signatures stored before the last format change: not comparable
            self.stats.set_value("newsdesk/dedup/index_stale", self.index.stale)
        return loaded, time.perf_counter() - started, peak

    def _remember(self, rows: list[dict[str, Any]]) -> int:
        """Add stored articles to the exact map and the story index; returns how many signed."""
        for row in rows:
            if row.get("body_hash") and row.get("outlet"):
                self.exact.setdefault((row["outlet"], row["body_hash"], _key(row.get("title"))), row["canonical_url"])
        return self.index.load(rows)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        url, outlet, body_hash = adapter.get("canonical_url"), adapter.get("outlet"), adapter.get("body_hash")
        if body_hash and outlet:
            known = self.exact.setdefault((outlet, body_hash, _key(adapter.get("title"))), url)
            if known != url:
                adapter["alias_of"] = known
                self.stats.inc_value("newsdesk/dedup/exact_alias")
                return item
        sig = signature(adapter.get("body") or "", adapter.get("title") or "")
        if sig is None:
            self.stats.inc_value("newsdesk/dedup/too_short")
            return item
        if url in self.index.stories:
            # a recrawl keeps its story: the stored story fields stay (the store leaves None alone)
            adapter["story_id"] = self.index.stories[url]
            self.stats.inc_value("newsdesk/dedup/known_story")
            return item
        match = self.index.assign(url, sig)
        adapter["minhash"] = to_bytes(sig)
        adapter["story_shingles"] = sig.size
        adapter["story_numbers"] = sorted(sig.numbers)
        adapter["story_id"] = match.story_id
        adapter["story_similarity"] = match.similarity
        adapter["story_closest"] = match.closest_url
        self.stats.inc_value("newsdesk/dedup/joined_story" if match.similarity is not None else "newsdesk/dedup/new_story")
        return item


def _key(title: Any) -> str:
    return "".join(str(title or "").split())
