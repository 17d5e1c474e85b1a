"""The store's writes in a process of their own: the GIL stays with the crawl.

Profiling the full pipeline (bench/throughput_bench.py, bench/stages_bench.py) showed the
store to be the stage that slows a crawl most, though the reactor thread never waits for it:
every batch's Python work on the writer thread (search postings, BSON encoding, pymongo's
bookkeeping; ~2.2 ms of CPU per article) holds the GIL that the reactor thread needs for
Scrapy, page parsing, normalization and dedup. Done in a child process the same work runs on
the other core. `ProcessStore` has the ArticleStore methods the store pipeline calls, so the
pipeline's batching, backpressure, per-document fallback and dead letters are unchanged;
errors come back as ValueError (a bad document) or PyMongoError (the database), the two
kinds the pipeline tells apart. A child that dies takes only its batch down: that batch is
dead-lettered and the next one starts a new child; a crawl that dies takes its child with it.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any

from pymongo.errors import PyMongoError

from crawler.procutil import die_with_parent

_STORE: Any = None  # the child's ArticleStore


def _open(uri: str, database: str, parent: int) -> None:
    global _STORE
    from crawler.store import ArticleStore, get_client

    die_with_parent(parent)

    _STORE = ArticleStore(get_client(uri)[database])


def _upsert(docs: list[dict[str, Any]], now: datetime | None) -> Any:
    try:
        return _STORE.upsert_many(docs, now=now)
    except ValueError as exc:
        raise ValueError(str(exc)) from None  # plain types: they cross the process boundary
    except PyMongoError as exc:
        raise PyMongoError(f"{type(exc).__name__}: {exc}") from None


class ProcessStore:
    """ArticleStore.upsert_many, run in one child process (started lazily, restarted if it dies)."""

    def __init__(self, uri: str, database: str) -> None:
        self.uri = uri
        self.database = database
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_open, initargs=(self.uri, self.database, os.getpid()))
        return self._pool

    def upsert_many(self, docs: list[dict[str, Any]], *, now: datetime | None = None) -> Any:
        try:
            return self._executor().submit(_upsert, docs, now).result()
        except BrokenProcessPool as exc:
            self.close()
            raise PyMongoError(f"the store's writer process died ({exc})") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=False)
            self._pool = None
