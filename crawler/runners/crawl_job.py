"""One crawl of one outlet, the way the scheduler does it: leased, recorded, time-limited.

The steps are the same whoever asks (a schedule firing, `newsdesk schedule run-now`):
take the outlet's lease or step aside; open a run in `runs`; crawl through the dispatcher
(a local subprocess, or a scrapyd) while a heartbeat keeps the lease; close the run with how
the crawl ended; give the lease back.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any, Protocol

from crawler.monitoring import after_run
from crawler.runners.local import CrawlResult
from crawler.store import Database, StoreError
from crawler.store.leases import LeaseKeeper, LeaseStore, lease_name
from crawler.store.runs import SKIPPED, RunStore

log = logging.getLogger(__name__)


class Dispatcher(Protocol):
    """Runs a crawl somewhere and waits for it: CrawlRunner (local) or ScrapydDispatcher."""

    dispatcher: str

    def paths(self, outlet: str) -> tuple[Any, Any]: ...

    def run(self, outlet: str, *, settings: dict[str, str], cancel: Any, paths: tuple[Any, Any]) -> CrawlResult: ...


def describe(run: dict[str, Any]) -> str:
    """One log line an operator can read: outcome, duration, counts, where the log is."""
    articles = run.get("articles") or {}
    state = run.get("status", "?")
    if run.get("error") and state != "finished":
        state = f"{state} ({run['error']})"
    return (
        f"crawl {run['outlet']}: {state} in {run.get('duration_s', 0):.0f} s; "
        f"pages {run.get('pages', 0)}, new {articles.get('new', 0)}, "
        f"updated {articles.get('updated', 0)}, unchanged {articles.get('unchanged', 0)}; "
        f"run {run['_id']}, log {run.get('log_path')}"
    )


class CrawlService:
    def __init__(self, db: Database[Any], dispatcher: Dispatcher, *, owner: str, leases: LeaseStore) -> None:
        self.runs = RunStore(db)
        self.leases = leases
        self.dispatcher = dispatcher
        self.owner = owner

    def crawl(self, outlet: str, trigger: str) -> dict[str, Any] | None:
        """Crawl `outlet` now unless it is already crawling; the closed run, or None if skipped."""
        name = lease_name(outlet)
        info = {"host": socket.gethostname(), "pid": os.getpid(), "trigger": trigger}
        lease = self.leases.acquire(name, self.owner, info=info)
        if lease is None:
            holder = (self.leases.holder(name) or {}).get("owner", "another scheduler")
            log.info("crawl %s (%s): skipped, already crawling under %s", outlet, trigger, holder)
            if trigger == "manual":  # an operator asked for it: say why nothing happened
                self.runs.open(outlet, trigger, owner=self.owner, status=SKIPPED,
                               note=f"already crawling under {holder}")
            return None
        with LeaseKeeper(self.leases, lease) as keeper:
            if lease.previous_owner:
                closed = self.runs.abandon_open_runs(outlet, lease.previous_owner)
                log.warning("crawl %s: lease of %s expired; %d open run(s) marked abandoned",
                            outlet, lease.previous_owner, closed)
            paths = self.dispatcher.paths(outlet)
            run_id = self.runs.open(
                outlet, trigger, owner=self.owner, log_path=str(paths[0]), dispatcher=self.dispatcher.dispatcher
            )
            result: CrawlResult | None = None
            try:
                result = self.dispatcher.run(
                    outlet, settings={"NEWSDESK_RUN_ID": run_id}, cancel=keeper.lost, paths=paths
                )
            finally:
                run = self._close(run_id, result, keeper.lost.is_set())
        if run is not None:
            log.info(describe(run))
            after_run(self.runs.collection.database, run)  # health and alerts; never raises
        return run

    def _close(self, run_id: str, result: CrawlResult | None, lease_lost: bool) -> dict[str, Any] | None:
        try:
            if result is None:
                return self.runs.close(run_id, returncode=None, error="the crawl could not be started")
            return self.runs.close(
                run_id,
                returncode=result.returncode,
                timed_out=result.timed_out,
                lease_lost=lease_lost or (result.cancelled and not result.timed_out),
                stats=result.stats,
                extra={"process_seconds": round(result.duration, 3)},
            )
        except StoreError as error:
            log.error("run %s: could not close it in the database: %s", run_id, error)
            return None
