"""Store (800): batched, idempotent upserts into MongoDB, never on the reactor thread.

Items are buffered and written `NEWSDESK_STORE_BATCH_SIZE` at a time (and at least every
`NEWSDESK_STORE_FLUSH_SECONDS`, so a slow crawl still lands promptly) by crawler.store's
ArticleStore, on one dedicated writer thread: writes keep their order, and the reactor's
shared thread pool (DNS lookups use it) is never starved by a slow database. (The batches
were once written by a child process per crawler, when building search postings per batch
made the writer's Python work heavy; with that work moved to the search queue's drain the
child saved nothing: pages/s the same within noise in interleaved runs of
bench/throughput_bench.py, and it cost a process per outlet.) When
`NEWSDESK_STORE_MAX_PENDING` batches are waiting, process_item waits too (backpressure), so
memory stays bounded. Whatever the database refuses (it is down, or one document is bad) is
written to a dead-letter JSONL file under the data folder, counted and logged with the URI
masked: the next crawl writes it back when its store opens (pipelines/replay.py), and so does
`newsdesk deadletter replay`. Nothing is lost silently.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, task, threads
from twisted.python.threadpool import ThreadPool

from crawler.items import item_dict
from crawler.jsonformat import dumps_line
from crawler.store import (
    ArticleStore,
    StoreError,
    UpsertResult,
    data_dir,
    database_name,
    get_client,
    mask_uri,
    resolve_uri,
    store_env,
)
from pipelines.replay import replay_dead_letters

logger = logging.getLogger(__name__)


def item_to_document(item: Any) -> dict[str, Any]:
    """The stored shape of an item: plain dicts and lists, datetimes left for pymongo."""
    doc = item_dict(item)
    if not doc.get("extra"):
        doc.pop("extra", None)
    return doc


@dataclass
class BatchOutcome:
    """What one batch write did; built on the writer thread, counted on the reactor."""

    result: UpsertResult | None = None
    deadlettered: int = 0
    deadletter_path: Path | None = None
    problems: list[str] = field(default_factory=list)


class MongoStorePipeline:
    def __init__(self, crawler: Crawler, env: dict[str, str]) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.env = env
        settings = crawler.settings
        self.batch_size = max(1, settings.getint("NEWSDESK_STORE_BATCH_SIZE", 100))
        self.flush_seconds = settings.getfloat("NEWSDESK_STORE_FLUSH_SECONDS", 5.0)
        self.max_pending = max(1, settings.getint("NEWSDESK_STORE_MAX_PENDING", 4))
        # Durability watermark, in items: `buffered` counts items handed to the store, `durable`
        # the first that many are written or dead-lettered (batches complete in order on the one
        # writer thread). Distributed workers acknowledge a request once `durable` reaches the
        # `buffered` count taken when the request left the engine: its articles are then kept.
        self.buffered = 0
        self.durable = 0
        self.buffer: list[dict[str, Any]] = []
        self.pending: list[defer.Deferred] = []
        self.client: Any = None
        self.store: ArticleStore | None = None
        self.uri = ""
        self._timer: task.LoopingCall | None = None
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name="newsdesk-store")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "MongoStorePipeline":
        if not crawler.settings.getbool("NEWSDESK_STORE_ENABLED", True):
            raise NotConfigured("NEWSDESK_STORE_ENABLED is off")
        return cls(crawler, store_env(crawler.settings))

    def _in_thread(self, func: Any, *args: Any) -> defer.Deferred:
        from twisted.internet import reactor  # imported late: Scrapy installs its reactor first

        return threads.deferToThreadPool(reactor, self._pool, func, *args)

    # -- lifecycle -----------------------------------------------------------------------
    async def open_spider(self) -> None:
        self._pool.start()
        await maybe_deferred_to_future(self._in_thread(self._connect))
        self._timer = task.LoopingCall(self._flush_if_any)
        self._timer.start(self.flush_seconds, now=False)

    def _connect(self) -> None:
        self.uri = resolve_uri(self.env)
        self.client = get_client(self.uri)
        self.store = ArticleStore(self.client[database_name(self.env)])
        self.store.ensure_indexes()
        logger.info("storing articles in %s (database %s)", mask_uri(self.uri), database_name(self.env))
        if self.crawler.settings.getbool("NEWSDESK_DEADLETTER_REPLAY", True):
            replay_dead_letters(data_dir(self.env) / "deadletter", self.store, self.stats)

    async def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self._flush_if_any()
        if self.pending:
            await maybe_deferred_to_future(defer.DeferredList(list(self.pending), consumeErrors=True))
        if self.client is not None:
            await maybe_deferred_to_future(self._in_thread(self.client.close))
        self._pool.stop()

    # -- items ---------------------------------------------------------------------------
    async def process_item(self, item: Any) -> Any:
        self.buffer.append(item_to_document(item))
        self.buffered += 1
        if len(self.buffer) >= self.batch_size:
            self._flush_if_any()
        while len(self.pending) >= self.max_pending:
            self.stats.inc_value("newsdesk/store/backpressure_waits")
            await maybe_deferred_to_future(defer.DeferredList(list(self.pending[:1]), consumeErrors=True))
        return item

    def _flush_if_any(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        upto = self.buffered
        d = self._in_thread(self._write, batch)
        d.addCallbacks(self._written, self._crashed)
        self.pending.append(d)
        d.addBoth(self._forget, d)
        d.addBoth(self._made_durable, upto)

    def _made_durable(self, result: Any, upto: int) -> Any:
        self.durable = max(self.durable, upto)
        logger.debug("store: the first %d item(s) are durable", self.durable)
        return result

    def _forget(self, result: Any, d: defer.Deferred) -> Any:
        if d in self.pending:
            self.pending.remove(d)
        return result

    # -- on the writer thread ------------------------------------------------------------
    def _write(self, batch: list[dict[str, Any]]) -> BatchOutcome:
        assert self.store is not None
        now = datetime.now(timezone.utc)
        outcome = BatchOutcome()
        try:
            outcome.result = self.store.upsert_many(batch, now=now)
        except ValueError:
            # one malformed document must not take its batch down: write them one by one
            outcome.result = UpsertResult(new=0, updated=0, unchanged=0, errors=[], outcomes=[])
            refused: list[dict[str, Any]] = []
            for doc in batch:
                try:
                    single = self.store.upsert_many([doc], now=now)
                except Exception as exc:  # noqa: BLE001 - refused or failed: kept, never lost
                    outcome.problems.append(f"{type(exc).__name__}: {exc}")
                    refused.append(doc)
                    continue
                _merge(outcome.result, single)
            if refused:
                self._dead_letter(outcome, refused)
            return outcome
        except Exception as exc:  # noqa: BLE001 - database down, unencodable document, ...: kept
            outcome.problems.append(f"{'database error' if isinstance(exc, StoreError) else type(exc).__name__}: {exc}")
            self._dead_letter(outcome, batch)
            return outcome
        failed = [batch[i] for i, o in enumerate(outcome.result.outcomes) if o == "error"]
        if failed:
            outcome.problems.extend(outcome.result.errors)
            self._dead_letter(outcome, failed)
        return outcome

    def _dead_letter(self, outcome: BatchOutcome, docs: list[dict[str, Any]]) -> None:
        folder = data_dir(self.env) / "deadletter"
        folder.mkdir(parents=True, exist_ok=True)
        spider = self.crawler.spider.name if self.crawler.spider else "unknown"
        path = folder / f"{spider}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.jsonl"
        crawled_at = datetime.now(timezone.utc)  # replay must not overwrite anything fetched later
        with path.open("a", encoding="utf-8") as fh:
            for doc in docs:
                fh.write(dumps_line({**doc, "deadlettered_at": crawled_at}))
            fh.flush()
            os.fsync(fh.fileno())
        outcome.deadlettered += len(docs)
        outcome.deadletter_path = path

    # -- back on the reactor -------------------------------------------------------------
    def _written(self, outcome: BatchOutcome) -> None:
        result = outcome.result
        if result is not None:
            for name in ("new", "updated", "unchanged"):
                count = getattr(result, name)
                if count:
                    self.stats.inc_value(f"newsdesk/articles/{name}", count)
            for name, count in (("aliases", result.aliases), ("revised", result.revised)):
                if count:
                    self.stats.inc_value(f"newsdesk/articles/{name}", count)
            duplicates = result.outcomes.count("duplicate")
            if duplicates:
                # the same canonical URL twice in one batch: stored once, the earlier copy counted here
                self.stats.inc_value("newsdesk/articles/duplicate_in_batch", duplicates)
        for problem in outcome.problems:
            self.stats.inc_value("newsdesk/store/errors")
            logger.error("store (%s): %s", mask_uri(self.uri), problem)
        if outcome.deadlettered:
            self.stats.inc_value("newsdesk/store/deadlettered", outcome.deadlettered)
            logger.error(
                "store: %d articles kept in %s; `newsdesk deadletter replay` writes them back",
                outcome.deadlettered,
                outcome.deadletter_path,
            )

    def _crashed(self, failure: Any) -> None:
        """Only reached if writing the dead-letter file itself failed: say so loudly."""
        self.stats.inc_value("newsdesk/store/lost_batches")
        logger.error("store: a batch could not be written nor kept (%s)", failure.getErrorMessage())


def _merge(total: UpsertResult, part: UpsertResult) -> None:
    total.new += part.new
    total.updated += part.updated
    total.unchanged += part.unchanged
    total.errors.extend(part.errors)
    total.outcomes.extend(part.outcomes)
    total.revised += part.revised
    total.aliases += part.aliases
