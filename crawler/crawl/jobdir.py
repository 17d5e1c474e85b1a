"""Scrapy job state (JOBDIR) that survives SIGKILL, for scheduled crawls that resume.

Scrapy's defaults persist a crawl only when it closes cleanly: the disk queues write their
size header and the scheduler its `active.json` at close, and the seen-requests file is
buffered; after `kill -9` the queue reads as empty while its requests count as seen, so the
"resumed" crawl fetches nothing. Here every write is durable when made:
- requests wait in SQLite queues (one transaction per push and pop),
- the scheduler finds its queues from their folders when `active.json` is missing,
- each seen-request fingerprint is flushed as it is recorded (before its request is queued;
  Scrapy's file format, the compact filter of crawler/crawl/dupefilter.py in memory).
What was being downloaded at the kill, or waiting in the store's batch, is not refetched by
the resumed crawl; it is not stored either, so the next crawl's incremental check fetches it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from scrapy.core.scheduler import Scheduler
from scrapy.http import Request

from crawler.crawl.dupefilter import CompactDupeFilter

# Settings the runner passes with JOBDIR (crawler/runners/local.py).
SETTINGS = {
    "SCHEDULER": "crawler.crawl.jobdir.ResumableScheduler",
    "DUPEFILTER_CLASS": "crawler.crawl.jobdir.DurableDupeFilter",
    "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue",
    "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleLifoSQLiteQueue",
    "SCHEDULER_START_DISK_QUEUE": "scrapy.squeues.PickleFifoSQLiteQueue",
}

_QUEUE_DIR = re.compile(r"^(-?\d+)s?$")


class ResumableScheduler(Scheduler):
    def _read_dqs_state(self, dqdir: str) -> Any:
        state = super()._read_dqs_state(dqdir)
        if state:
            return state
        # no active.json: the crawl did not close; its queues are named by their priority
        found = {int(m.group(1)) for p in Path(dqdir).iterdir() if (m := _QUEUE_DIR.match(p.name))}
        return sorted(found)


class DurableDupeFilter(CompactDupeFilter):
    def request_seen(self, request: Request) -> bool:
        seen = super().request_seen(request)
        if not seen and self.file:
            self.file.flush()
        return seen
