"""Article pages parsed in a worker process, so the crawl's own core stays with Scrapy.

A crawl process is one Python thread doing everything: Scrapy's engine, downloads, and every
pipeline stage. On two cores its second core idles while the page objects (decode, parse,
extract: the largest per-article cost, bench/stages_bench.py) wait their turn. Here a page is
sent to a worker process as bytes with its outlet spec, parsed there by the same page object,
and the Article comes back (a pickled dataclass of about 10 KB); the spider awaits it, so
Scrapy keeps downloading meanwhile. bench/throughput_bench.py measures what it changes.

One pool per crawl process, shared by every spider in it (`newsdesk crawl` runs several),
started at the first article and stopped when the last spider that used it closes. A worker
that dies (a page that crashes the HTML parser in C) takes only the pages it held: they fail
with PageCrash, the spider counts them, and the next page starts a new worker; in the crawl's
own process such a page would have ended the crawl. Workers die with their crawl
(PR_SET_PDEATHSIG) and leave Ctrl-C to it.

NEWSDESK_PARSE_PROCESSES: worker processes (0: parse in the crawl process itself). "auto" (the
default) is 0 on up to two cores and cores - 2 (at most 4) above. Measured on two cores
(bench/throughput_bench.py, alternating runs): 1 worker 11% slower than none (one worker
serialises the parses and responses queue behind it), 2 workers 2-4% faster, for ~100 MB of
RSS each; the second core is already busy with the database server and the store's writer.
More cores were not measured here.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from functools import lru_cache
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from twisted.internet import defer

from crawler.procutil import worker_pool

logger = logging.getLogger(__name__)


class PageCrash(RuntimeError):
    """The worker parsing a page died (the page is counted as a parse error)."""


def processes_setting(value: Any) -> int:
    """NEWSDESK_PARSE_PROCESSES as a number of workers ("auto": none on two cores or fewer)."""
    if value is None or str(value).strip().lower() in ("", "auto"):
        return min(4, max(0, (os.cpu_count() or 1) - 2))
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"NEWSDESK_PARSE_PROCESSES={value!r}: expected a number of processes or 'auto'") from None
    if count < 0:
        raise ValueError(f"NEWSDESK_PARSE_PROCESSES={value!r}: expected 0 or more")
    return count


def parse_page(outlet: Any, url: str, html: bytes, content_type: str | None, prepare: str | None = None) -> Any:
    """The outlet's page object on one page: what the worker runs (and the spider, without one).
    `prepare` names a function (module.path.name) the article then goes through in the worker:
    work that only reads the article and is cheaper here than on the crawl's thread."""
    article = outlet.page_class()(url=url, html=html, outlet=outlet, content_type=content_type).to_article()
    return _load(prepare)(article) if prepare else article


@lru_cache(maxsize=8)
def _load(path: str) -> Any:
    from scrapy.utils.misc import load_object

    return load_object(path)


class ParsePool:
    """Worker processes parsing article pages; `parse` returns a Deferred of the Article."""

    def __init__(self, processes: int) -> None:
        if processes < 1:
            raise ValueError("a parse pool needs at least one process")
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.restarts = 0

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = worker_pool(self.processes)
            return self._executor

    def parse(self, outlet: Any, url: str, html: bytes, content_type: str | None,
              prepare: str | None = None) -> defer.Deferred:
        """Parse on a worker; the Deferred fires on the reactor with the Article, or fails
        with the page object's own exception, or PageCrash when the worker died."""
        return _to_deferred(self.submit(outlet, url, html, content_type, prepare), self._broken)

    def submit(self, outlet: Any, url: str, html: bytes, content_type: str | None,
               prepare: str | None = None) -> Future:
        """The parse as a concurrent.futures Future (parse() hands it to the reactor)."""
        try:
            return self._pool().submit(parse_page, outlet, url, html, content_type, prepare)
        except BrokenProcessPool:  # died since the last page: a new pool for this one
            self._broken()
            return self._pool().submit(parse_page, outlet, url, html, content_type, prepare)

    def _broken(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            self.restarts += 1
            logger.error("the page parser's worker process died; starting a new one")
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def _to_deferred(future: Future, on_broken: Any) -> defer.Deferred:
    from twisted.internet import reactor

    d: defer.Deferred = defer.Deferred()

    def settle(result: Any, error: BaseException | None) -> None:
        if error is None:
            d.callback(result)
        elif isinstance(error, BrokenProcessPool):
            on_broken()
            d.errback(PageCrash(str(error) or "worker process died"))
        else:
            d.errback(error)

    def done(f: Future) -> None:  # on the executor's thread: hand over to the reactor
        if f.cancelled():
            reactor.callFromThread(settle, None, PageCrash("parse cancelled: the pool was closed"))
            return
        error = f.exception()
        reactor.callFromThread(settle, None if error else f.result(), error)

    future.add_done_callback(done)
    return d


# -- one pool per process, shared by the spiders in it ----------------------------------------
_shared: ParsePool | None = None
_users = 0
_shared_lock = threading.Lock()


def acquire(processes: int) -> ParsePool:
    """The process's pool (started lazily at the first page); release() when done."""
    global _shared, _users
    with _shared_lock:
        if _shared is None:
            _shared = ParsePool(processes)
        _users += 1
        return _shared


def release(pool: ParsePool) -> None:
    """One user fewer; the last one closes the pool (its workers exit)."""
    global _shared, _users
    with _shared_lock:
        if pool is not _shared:
            pool.close()
            return
        _users -= 1
        if _users > 0:
            return
        _shared, _users = None, 0
    pool.close()
