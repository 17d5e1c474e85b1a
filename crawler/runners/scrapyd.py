"""Crawls dispatched to a scrapyd instead of local subprocesses (NEWSDESK_SCRAPYD_URL).

The scheduler keeps everything it owns (lease, run document, time limit); only the crawl
process runs on the scrapyd host. That host needs the same database settings in its own
environment (MONGO_URI, NEWSDESK_DB): the URI, which may hold a password, is never sent
through schedule.json, where scrapyd would show it in its job list. The crawl reports its
stats to its run itself (RunRecorder, via NEWSDESK_RUN_ID), so nothing is read back from
scrapyd but the job's state.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from typing import Mapping

from crawler.runners.local import CrawlResult
from crawler.runners.scrapyd_client import ScrapydClient, ScrapydError

log = logging.getLogger(__name__)


class ScrapydDispatcher:
    dispatcher = "scrapyd"

    def __init__(
        self,
        url: str,
        *,
        project: str = "newsdesk",
        time_limit: float = 25 * 60,
        spider_args: Mapping[str, str] | None = None,
        poll: float = 2.0,
        grace: float = 60.0,
        client: ScrapydClient | None = None,
    ) -> None:
        self.client = client or ScrapydClient(url, project)
        self.time_limit = time_limit
        self.spider_args = dict(spider_args or {})
        self.poll = poll
        self.grace = grace
        self._stopping = threading.Event()

    def paths(self, outlet: str) -> tuple[str, str]:
        """(where the log will be, the job id we will give scrapyd) for the next crawl."""
        jobid = uuid.uuid4().hex
        return f"{self.client.url}/logs/{self.client.project}/{outlet}/{jobid}.log", jobid

    def run(
        self,
        outlet: str,
        *,
        settings: Mapping[str, str] | None = None,
        cancel: threading.Event | None = None,
        paths: tuple[str, str] | None = None,
    ) -> CrawlResult:
        if self._stopping.is_set():
            raise RuntimeError("dispatcher is shutting down; not starting new crawls")
        log_url, jobid = paths or self.paths(outlet)
        crawl_settings = dict(settings or {})
        if os.environ.get("NEWSDESK_DB"):
            crawl_settings.setdefault("NEWSDESK_DB", os.environ["NEWSDESK_DB"])
        started = time.time()
        self.client.schedule(outlet, settings=crawl_settings, args=self.spider_args, jobid=jobid)
        deadline = time.monotonic() + self.time_limit
        timed_out = cancelled = False
        state = "pending"
        while True:
            try:
                state = self.client.status(jobid)
            except ScrapydError as error:  # scrapyd restarting: keep waiting within the limit
                log.warning("crawl %s on scrapyd: status unavailable (%s)", outlet, error)
            if state in ("finished", "unknown"):
                break
            if (cancel is not None and cancel.is_set()) or self._stopping.is_set():
                cancelled = True
            elif time.monotonic() >= deadline:
                timed_out = True
            if cancelled or timed_out:
                self._cancel(outlet, jobid)
                break
            time.sleep(self.poll)
        returncode = 0 if state == "finished" else None
        return CrawlResult(outlet, returncode, started, time.time(), log_url, jobid, timed_out, cancelled)  # type: ignore[arg-type]

    def _cancel(self, outlet: str, jobid: str) -> None:
        log.warning("crawl %s on scrapyd: stopping job %s", outlet, jobid)
        try:
            self.client.cancel(jobid)
            grace_deadline = time.monotonic() + self.grace
            while self.client.status(jobid) in ("pending", "running"):
                if time.monotonic() >= grace_deadline:
                    # a crawl stuck in a download can ignore SIGINT twice; SIGKILL cannot be ignored
                    self.client.cancel(jobid, signal="KILL")
                    return
                time.sleep(min(self.poll, 0.5))
        except ScrapydError as error:
            log.error("crawl %s on scrapyd: could not cancel job %s: %s", outlet, jobid, error)

    def stop_all(self) -> None:
        """Stop starting crawls; crawls being waited for are cancelled on scrapyd."""
        self._stopping.set()
