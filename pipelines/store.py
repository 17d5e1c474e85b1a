"""Store (800): batched, idempotent upserts into MongoDB, never on the reactor thread.

Items are buffered and written `NEWSDESK_STORE_BATCH_SIZE` at a time (and at least every
`NEWSDESK_STORE_FLUSH_SECONDS`, so a slow crawl still lands promptly) by crawler.store's
ArticleStore in a worker thread. A batch the database refuses is written to a dead-letter
JSONL file under the data folder, counted, and logged with the URI masked: nothing is lost
silently.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, task, threads

from crawler.store import ArticleStore, UpsertResult, data_dir, database_name, get_client, mask_uri, resolve_uri

logger = logging.getLogger(__name__)


def item_to_document(item: Any) -> dict[str, Any]:
    """The stored shape of an item: plain dicts and lists, datetimes left for pymongo."""
    doc = ItemAdapter(item).asdict()
    if not doc.get("extra"):
        doc.pop("extra", None)
    return doc


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


class MongoStorePipeline:
    def __init__(self, crawler: Crawler, env: dict[str, str]) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.env = env
        settings = crawler.settings
        self.batch_size = max(1, settings.getint("NEWSDESK_STORE_BATCH_SIZE", 100))
        self.flush_seconds = settings.getfloat("NEWSDESK_STORE_FLUSH_SECONDS", 5.0)
        self.buffer: list[dict[str, Any]] = []
        self.pending: set[defer.Deferred] = set()
        self.client = None
        self.store: ArticleStore | None = None
        self.uri = ""
        self._timer: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "MongoStorePipeline":
        if not crawler.settings.getbool("NEWSDESK_STORE_ENABLED", True):
            raise NotConfigured("NEWSDESK_STORE_ENABLED is off")
        env = dict(os.environ)
        for name in ("MONGO_URI", "NEWSDESK_DB", "NEWSDESK_DATA_DIR"):
            if crawler.settings.get(name):
                env[name] = str(crawler.settings.get(name))
        return cls(crawler, env)

    # -- lifecycle -----------------------------------------------------------------------
    async def open_spider(self) -> None:
        await maybe_deferred_to_future(threads.deferToThread(self._connect))
        self._timer = task.LoopingCall(self._flush_if_any)
        self._timer.start(self.flush_seconds, now=False)

    def _connect(self) -> None:
        self.uri = resolve_uri(self.env)
        self.client = get_client(self.uri)
        self.store = ArticleStore(self.client[database_name(self.env)])
        self.store.ensure_indexes()
        logger.info("storing articles in %s (database %s)", mask_uri(self.uri), database_name(self.env))

    async def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self._flush_if_any()
        if self.pending:
            await maybe_deferred_to_future(defer.DeferredList(list(self.pending), consumeErrors=True))
        if self.client is not None:
            self.client.close()

    # -- items ---------------------------------------------------------------------------
    def process_item(self, item: Any) -> Any:
        self.buffer.append(item_to_document(item))
        if len(self.buffer) >= self.batch_size:
            self._flush_if_any()
        return item

    def _flush_if_any(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        d = threads.deferToThread(self._write, batch)
        d.addCallbacks(self._written, self._failed, errbackArgs=(batch,))
        self.pending.add(d)
        d.addBoth(self._forget, d)

    def _forget(self, result: Any, d: defer.Deferred) -> Any:
        self.pending.discard(d)
        return result

    def _write(self, batch: list[dict[str, Any]]) -> UpsertResult:
        assert self.store is not None
        return self.store.upsert_many(batch, now=datetime.now(timezone.utc))

    def _written(self, result: UpsertResult) -> None:
        for outcome in ("new", "updated", "unchanged"):
            count = getattr(result, outcome)
            if count:
                self.stats.inc_value(f"newsdesk/articles/{outcome}", count)
        duplicates = sum(1 for outcome in result.outcomes if outcome == "duplicate")
        if duplicates:
            # the same canonical URL twice in one batch: stored once, the earlier copy counted here
            self.stats.inc_value("newsdesk/articles/duplicate_in_batch", duplicates)
        for error in result.errors:
            self.stats.inc_value("newsdesk/store/errors")
            logger.error("store: %s", error)

    def _failed(self, failure: Any, batch: list[dict[str, Any]]) -> None:
        self.stats.inc_value("newsdesk/store/failed_batches")
        self.stats.inc_value("newsdesk/store/deadlettered", len(batch))
        path = self._dead_letter(batch)
        logger.error(
            "store: writing %d articles to %s failed (%s); kept in %s for replay",
            len(batch),
            mask_uri(self.uri),
            failure.getErrorMessage(),
            path,
        )

    def _dead_letter(self, batch: list[dict[str, Any]]) -> Path:
        folder = data_dir(self.env) / "deadletter"
        folder.mkdir(parents=True, exist_ok=True)
        spider = self.crawler.spider.name if self.crawler.spider else "unknown"
        path = folder / f"{spider}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.jsonl"
        with path.open("a", encoding="utf-8") as fh:
            for doc in batch:
                fh.write(json.dumps(doc, ensure_ascii=False, default=_json_default) + "\n")
        return path
