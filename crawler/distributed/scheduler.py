"""scrapy-redis's scheduler, with the round's dupefilter and queue changed in one Redis step.

scrapy-redis enqueues a request in two commands: SADD of its fingerprint to the dupefilter,
then the push to the queue. A worker killed between the two (SIGKILL, OOM, a lost machine)
leaves a fingerprint whose request is nowhere. The page that found the request is not lost:
it was parked (crawler.distributed.queue) and another worker parses it again once the dead
worker's heartbeat is gone; but its request for that article is then "seen" and dropped, and
the article is never fetched in that round. tests/distributed' kill test lost one of six
articles so, about one run in ten under load (bench/distributed_kill_stress.py), because the
test kills a worker just as it starts on articles, while it is still queueing the others.

Here a request that goes through the dupefilter is queued by one Lua script that records
its fingerprint and pushes it together (ReliablePriorityQueue.push_unseen); requests with
dont_filter are pushed as before. Fingerprints are scrapy-redis's own, so the dupefilter key
keeps its meaning for anything else reading it.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

from crawler.distributed.queue import ReliablePriorityQueue


class RoundScheduler(Scheduler):
    """Scheduler whose dupefilter check and push are atomic (see the module docstring)."""

    def open(self, spider: Any) -> None:
        super().open(spider)
        if not isinstance(self.queue, ReliablePriorityQueue) or not isinstance(self.df, RFPDupeFilter):
            raise RuntimeError(
                "crawler.distributed.scheduler.RoundScheduler needs SCHEDULER_QUEUE_CLASS = "
                "crawler.distributed.queue.ReliablePriorityQueue and scrapy-redis's RFPDupeFilter"
            )

    def enqueue_request(self, request: Request) -> bool:
        if request.dont_filter:
            self.queue.push(request)
        elif not self.queue.push_unseen(request, self.df.request_fingerprint(request), self.df.key):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True
