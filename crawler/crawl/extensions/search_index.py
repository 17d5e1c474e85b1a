"""Index what a crawl stored when it ends: the Scrapy side of crawler.search.queue.

The store only queues new and changed articles for the search index; this extension drains
the queue (all of it, not only this crawl's entries) once the crawl is over, so an article
becomes searchable when the crawl that stored it ends, in one large segment per few
thousand articles. It works wherever a crawl runs: `scrapy crawl` subprocesses of the
scheduler, `newsdesk crawl` and `demo`, scrapyd, distributed workers. What a crawl killed
before its end leaves queued, the scheduler's periodic drain picks up.

The drain runs in a child process (engine_stopped awaits it), after the stats' finish
time, so the crawl's own figures do not include it, and what it builds (postings of a few
thousand articles, merges of segments: hundreds of MB for a large backlog) is returned to the
system when the child exits instead of staying in the crawl process's heap (bench/soak_bench.py
samples the RSS of the crawl and of its child processes apart). When one process runs several
crawls (`newsdesk crawl a b c`), only the last to stop drains: the others' reactor is not slowed.
"""

from __future__ import annotations

import logging
import time
from typing import ClassVar

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from crawler.processes import worker_pool
from crawler.store import database_name, get_client, resolve_uri, store_env

log = logging.getLogger(__name__)

STORE_PIPELINE = "pipelines.store.MongoStorePipeline"
# Stats that mean this crawl wrote articles (new or changed ones are what the queue holds).
STORED_STATS = ("newsdesk/articles/new", "newsdesk/articles/updated", "newsdesk/deadletter/replayed")
MAX_SECONDS = 20 * 60.0  # a huge backlog is left to the scheduler rather than hold a crawl's exit


class SearchIndexAtCrawlEnd:
    _running: ClassVar[set[int]] = set()  # crawls of this process whose engine is running
    _stored: ClassVar[bool] = False  # some crawl of this process stored articles

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "SearchIndexAtCrawlEnd":
        settings = crawler.settings
        if not settings.getbool("NEWSDESK_STORE_ENABLED", True):
            raise NotConfigured("NEWSDESK_STORE_ENABLED is off")
        pipelines = settings.getwithbase("ITEM_PIPELINES")
        if pipelines.get(STORE_PIPELINE) is None:
            raise NotConfigured("no store pipeline")
        ext = cls(crawler)
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started, weak=False)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped, weak=False)
        return ext

    def engine_started(self) -> None:
        SearchIndexAtCrawlEnd._running.add(id(self))

    async def engine_stopped(self) -> None:
        stats = self.crawler.stats
        if any(int(stats.get_value(name, 0) or 0) for name in STORED_STATS):
            SearchIndexAtCrawlEnd._stored = True
        SearchIndexAtCrawlEnd._running.discard(id(self))
        if SearchIndexAtCrawlEnd._running or not SearchIndexAtCrawlEnd._stored:
            return  # another crawl of this process drains when it ends; or nothing to index
        SearchIndexAtCrawlEnd._stored = False
        await maybe_deferred_to_future(threads.deferToThread(self._drain))

    def _drain(self) -> None:
        env = store_env(self.crawler.settings)
        started = time.monotonic()
        try:
            with worker_pool(1) as pool:
                indexed, cpu_seconds, segments = pool.submit(_drain_in_child, dict(env)).result()
        except Exception as exc:  # noqa: BLE001 - the queue keeps the articles: the scheduler drains it
            log.error("search index: not updated at the end of this crawl (%s: %s); queued articles stay queued "
                      "for the scheduler's drain or `newsdesk search --reindex`", type(exc).__name__, exc)
            return
        log.info("search index: %d articles indexed in %.1f s (%.1f s CPU, %d segments)",
                 indexed, time.monotonic() - started, cpu_seconds, segments)


def _drain_in_child(env: dict[str, str]) -> tuple[int, float, int]:
    """The drain, in the child process: (articles indexed, CPU seconds, segments written)."""
    # imported here, in the child: the crawl process itself never loads the search indexer
    from crawler.search.queue import drain

    client = get_client(resolve_uri(env, start_embedded=False), serverSelectionTimeoutMS=5000)
    try:
        result = drain(client[database_name(env)], max_seconds=MAX_SECONDS)
    except Exception as exc:  # noqa: BLE001 - plain types cross the process boundary
        raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
    finally:
        client.close()
    return result.indexed, result.cpu_seconds, result.segments
