"""One story index per process and database, shared by every crawler of the process.

`newsdesk crawl a b c` runs one Scrapy crawler per outlet in one process, and each crawler
has its own DedupPipeline. An index of the whole window per pipeline would hold N copies for
N outlets, and two outlets crawled together would learn of each other's stories only at the
next refresh. So the first pipeline to open starts the
load (on a thread: a range scan of Mongo); the others opening meanwhile wait for the same
load; all of them read and add to the one index (on the reactor thread, so no lock); the
refresh that picks up other processes' articles runs once per process; the last pipeline to
close stops it and lets the index go.

The registry is keyed by the database (URI or embedded data folder, and database name), so
a process writing to two databases keeps two indexes. A crawler opening an index already
there gets it with the settings of the crawler that created it (a warning names the ones
that differ).
"""

from __future__ import annotations

import logging
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from twisted.internet import defer, task, threads
from twisted.python.failure import Failure

from crawler.dedup.index import StoryIndex
from crawler.store import ArticleStore, StoreError, database_name, get_client, resolve_uri
from crawler.store.embedded import data_dir
from crawler.store.stories import StoryMerge, StoryMergeStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexConfig:
    window: timedelta
    threshold: float
    max_articles: int
    refresh_seconds: float
    # Stored articles first seen this recently are compared with the index as it loads
    # (StoryIndex.reconcile): what a crawl killed before its end left unreconciled.
    reconcile_window: timedelta = timedelta(hours=1)


# A refresh reads the URLs first seen since the last one, less this overlap: another process
# stamps first_seen when it writes a batch, and the batch becomes visible a moment later.
REFRESH_OVERLAP = timedelta(seconds=30)


def _defer_to_thread(fn: Callable[[], Any]) -> defer.Deferred:
    return threads.deferToThread(fn)


def _reactor() -> Any:
    # imported when first used: importing it installs a reactor, and Scrapy installs its own first
    from twisted.internet import reactor

    return reactor


class SharedStoryIndex:
    """A StoryIndex with its Mongo connection, its load and its refresh, for the pipelines of
    one process that use one database. Get it with acquire(), give it back with release()."""

    # Replaced in tests (a synchronous call, a task.Clock): how the load and the refresh
    # reach a thread and the reactor.
    run_in_thread: Callable[[Callable[[], Any]], defer.Deferred] = staticmethod(_defer_to_thread)
    clock: Callable[[], Any] = staticmethod(_reactor)

    def __init__(self, key: tuple[str, str], env: dict[str, str], config: IndexConfig) -> None:
        self.key = key
        self.env = env
        self.config = config
        self.index = StoryIndex(threshold=config.threshold, max_articles=config.max_articles)
        self.refs = 0
        self.users: list[Any] = []  # the stats collectors of the crawlers using it
        self.loads = 0  # loads started (one per index; tests check it)
        self.refreshes = 0  # refresh queries started
        self.load_result: tuple[int, float, int] | None = None  # (articles loaded, seconds, traced peak bytes)
        self._waiting: list[defer.Deferred] = []
        self.client: Any = None
        self.store: Any = None
        self.loaded_until: datetime | None = None
        self.merges: StoryMergeStore | None = None
        self.merges_seen_until: datetime | None = None  # merges recorded by others, read up to here
        self.opened_at = datetime.now(timezone.utc)
        self.merged = 0  # merges this process recorded
        self._loop: task.LoopingCall | None = None

    # -- load -------------------------------------------------------------------------------

    def _start_load(self) -> None:
        self.loads += 1
        d = self.run_in_thread(self._rebuild)
        d.addCallbacks(self._loaded, self._load_failed)

    def ready(self) -> defer.Deferred:
        """Fires with the load's (articles, seconds, peak bytes) once the index is loaded."""
        if self.load_result is not None:
            return defer.succeed(self.load_result)
        d: defer.Deferred = defer.Deferred()
        self._waiting.append(d)
        return d

    def _loaded(self, result: tuple[int, float, int]) -> None:
        self.load_result = result
        if self.config.refresh_seconds > 0 and self.refs > 0:
            self._loop = task.LoopingCall(self.refresh)
            self._loop.clock = self.clock()
            self._loop.start(self.config.refresh_seconds, now=False).addErrback(
                lambda failure: logger.error("story index refresh loop stopped: %s", failure.getErrorMessage()))
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(result)

    def _load_failed(self, failure: Failure) -> None:
        if _REGISTRY.get(self.key) is self:  # the next crawler to open tries again
            del _REGISTRY[self.key]
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.errback(failure)

    def _rebuild(self) -> tuple[int, float, int]:
        """On a thread: connect, read the window's signatures, build the index."""
        started = time.perf_counter()
        trace = not tracemalloc.is_tracing()  # never switch off tracing someone else started
        if trace:
            tracemalloc.start()
        try:
            self.client = get_client(resolve_uri(self.env))
            db = self.client[database_name(self.env)]
            self.store = ArticleStore(db)
            self.merges = StoryMergeStore(db)
            self.merges.ensure_indexes()
            until = datetime.now(timezone.utc)
            for merge in self.merges.since(until - self.config.window):
                self.index.rename(merge["_id"], merge["into"])
            self.merges_seen_until = until
            recent: list[dict[str, Any]] = []
            cutoff = until - self.config.reconcile_window

            def older() -> Any:
                for row in self.store.signatures_since(until - self.config.window):
                    seen = row.get("first_seen")
                    if isinstance(seen, datetime) and (seen if seen.tzinfo else seen.replace(tzinfo=timezone.utc)) >= cutoff:
                        recent.append(row)
                    else:
                        yield row

            loaded = self.index.load(older())
            before = len(self.index)
            self._record(self.index.reconcile(recent))
            loaded += len(self.index) - before
            self.loaded_until = until
            peak = tracemalloc.get_traced_memory()[1] if trace else 0
        finally:
            if trace:
                tracemalloc.stop()
        return loaded, time.perf_counter() - started, peak

    # -- refresh ----------------------------------------------------------------------------

    def refresh(self) -> defer.Deferred | None:
        """Add what other processes stored since the last load (the queries run on a thread,
        the index changes on the reactor thread). The URLs first seen since then are read
        first, and the signatures only of those the index lacks: most of what was stored
        meanwhile is this process's own, held already, and reading its signatures (several KB
        an article, a refresh interval's worth at a time) only to drop them would raise the
        heap after every refresh (bench/soak_bench.py follows the crawl's RSS).

        Nor are this process's articles that the index's bound evicted since the last refresh
        read back (StoryIndex.evicted_lately): a fast crawl can store more in one refresh
        interval than the bound holds, and reading those back would fetch thousands of
        signatures to hold old articles again in the place of newer ones."""
        since = self.loaded_until
        if self.store is None or since is None:
            return None
        self.refreshes += 1
        self.index.mark_evictions()  # _read_missing skips what the last EVICTION_MARKS generations evicted
        until = datetime.now(timezone.utc)
        store = self.store
        d = self.run_in_thread(lambda: store.urls_first_seen_since(since - REFRESH_OVERLAP))
        d.addCallback(self._read_missing, store)
        d.addCallback(self.merge_rows, until)
        d.addCallback(lambda merges: self.run_in_thread(lambda: self._exchange_merges(merges, until)))
        d.addCallback(self._rename_all)
        d.addErrback(lambda failure: logger.warning("story index refresh failed: %s", failure.getErrorMessage()))
        return d

    def _read_missing(self, urls: list[str], store: Any) -> list[dict[str, Any]] | defer.Deferred:
        """The stored signatures of the URLs the index does not hold (read on a thread)."""
        index = self.index
        missing = [url for url in urls if not index.holds(url) and not index.evicted_lately(url)]
        if not missing:
            return []
        return self.run_in_thread(lambda: list(store.signatures_of(missing)))

    def merge_rows(self, rows: list[dict[str, Any]], until: datetime) -> list[StoryMerge]:
        """Add the rows other processes stored, each compared with the index first (on the
        reactor thread); returns the merges found, for _exchange_merges to record."""
        before = len(self.index)
        merges = self.index.reconcile(rows)
        added = len(self.index) - before
        self.loaded_until = until
        for stats in self.users:
            if added:
                stats.inc_value("newsdesk/dedup/index_refreshed", added)
            self.report(stats)
        return merges

    def _exchange_merges(self, merges: list[StoryMerge], until: datetime) -> list[dict[str, Any]]:
        """On a thread: record this process's merges and read those other processes recorded
        since the last time (so this process's next copies take the surviving id)."""
        self._record(merges)
        if self.merges is None or self.merges_seen_until is None:
            return []
        found = self.merges.since(self.merges_seen_until - REFRESH_OVERLAP)
        self.merges_seen_until = until
        return found

    def _rename_all(self, recorded: list[dict[str, Any]]) -> None:
        for merge in recorded:
            self.index.rename(merge["_id"], merge["into"])

    def _record(self, merges: list[StoryMerge]) -> None:
        """Record merges and move the copies of the ids that go (on a thread)."""
        if not merges or self.merges is None:
            return
        outcome = self.merges.record(merges)
        self.merged += outcome.recorded
        for merge in merges:
            logger.info("story %s merged into %s: %s (%s matches %s, similarity %s)", merge.gone, merge.into,
                        merge.reason, merge.url, merge.closest_url, merge.similarity)

    # -- users ------------------------------------------------------------------------------

    def report(self, stats: Any) -> None:
        """The index's size into a crawler's stats (newsdesk/dedup/index_*)."""
        size = self.index.size_stats()
        stats.set_value("newsdesk/dedup/index_articles", size["articles"])
        stats.set_value("newsdesk/dedup/index_evicted", size["evicted"])
        stats.set_value("newsdesk/dedup/index_mb", size["mb"])
        stats.set_value("newsdesk/dedup/index_max_articles", self.index.max_articles)
        if self.index.skipped:
            stats.set_value("newsdesk/dedup/index_unreadable", self.index.skipped)
        if self.index.stale:  # signatures stored before the last format change: not comparable
            stats.set_value("newsdesk/dedup/index_stale", self.index.stale)
        if self.merged:
            stats.set_value("newsdesk/dedup/story_merges", self.merged)

    def _close(self, stats: list[Any] = ()) -> defer.Deferred:
        """The last user is gone: one last refresh compares what other processes stored
        meanwhile, every merge recorded since this index opened is carried out again (copies
        this process wrote under an id after its merge), then the connection closes."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None
        d = self.refresh() or defer.succeed(None)
        d.addBoth(lambda _: self.run_in_thread(self._finish))
        d.addErrback(lambda failure: logger.warning("story index close: %s", failure.getErrorMessage()))

        def report(_: Any) -> None:
            for each in stats:
                self.report(each)

        d.addCallback(report)
        return d

    def _finish(self) -> None:
        client, self.client, self.store = self.client, None, None
        try:
            if self.merges is not None:
                moved = self.merges.apply_since(self.opened_at - REFRESH_OVERLAP)
                if moved:
                    logger.info("story merges: %d copies written under a merged id moved to the surviving one", moved)
        except StoreError as exc:  # the scheduler's upkeep carries the merges out later
            logger.warning("story merges not applied at the crawl's end: %s", exc)
        finally:
            self.merges = None
            if client is not None:
                client.close()


_REGISTRY: dict[tuple[str, str], SharedStoryIndex] = {}


def registry_key(env: dict[str, str]) -> tuple[str, str]:
    uri = env.get("MONGO_URI", "").strip()
    return (uri or f"embedded:{data_dir(env)}", database_name(env))


def acquire(env: dict[str, str], config: IndexConfig, stats: Any = None) -> tuple[SharedStoryIndex, defer.Deferred]:
    """The process's index for this database (created and its load started by the first
    caller) and a Deferred that fires with the load's result once it is loaded."""
    key = registry_key(env)
    shared = _REGISTRY.get(key)
    if shared is None:
        shared = _REGISTRY[key] = SharedStoryIndex(key, env, config)
        shared.refs += 1
        shared._start_load()
    else:
        shared.refs += 1
        if config != shared.config:
            logger.warning("story index for %s already open with %s; this crawler's %s is not used",
                           key[1], shared.config, config)
    if stats is not None:
        shared.users.append(stats)
    return shared, shared.ready()


def release(shared: SharedStoryIndex, stats: Any = None) -> defer.Deferred:
    """One user fewer; the last one stops the refresh and closes the connection."""
    if stats is not None:
        shared.report(stats)
        if stats in shared.users:
            shared.users.remove(stats)
    shared.refs -= 1
    if shared.refs > 0:
        return defer.succeed(None)
    if _REGISTRY.get(shared.key) is shared:
        del _REGISTRY[shared.key]
    return shared._close([stats] if stats is not None else [])


def open_indexes() -> dict[tuple[str, str], SharedStoryIndex]:
    """The indexes open in this process (for tests and diagnostics)."""
    return dict(_REGISTRY)
