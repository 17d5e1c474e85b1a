"""Distributed mode: scrapy-redis's scheduler with newsdesk's reliable queue (crawler/distributed).

Loaded on top of the environment's overlay when NEWSDESK_ENV=distributed (production
settings), when NEWSDESK_DISTRIBUTED=1, or when REDIS_URL is set in dev or prod.
"""

import os as _os

from settings.base import EXTENSIONS as _EXTENSIONS

NEWSDESK_DISTRIBUTED = True
REDIS_URL = _os.environ.get("REDIS_URL", "").strip() or "redis://127.0.0.1:6379/0"
NEWSDESK_REDIS_PREFIX = _os.environ.get("NEWSDESK_REDIS_PREFIX", "").strip() or "newsdesk"

SCHEDULER = "crawler.distributed.scheduler.RoundScheduler"  # scrapy-redis's, with fingerprint and push in one step
SCHEDULER_QUEUE_CLASS = "crawler.distributed.queue.ReliablePriorityQueue"
SCHEDULER_QUEUE_KEY = NEWSDESK_REDIS_PREFIX + ":%(spider)s:requests"
DUPEFILTER_CLASS = "scrapy_redis.dupefilter.RFPDupeFilter"
SCHEDULER_DUPEFILTER_KEY = NEWSDESK_REDIS_PREFIX + ":%(spider)s:dupefilter"
SCHEDULER_PERSIST = True  # the queue belongs to the round, not to one worker
SCHEDULER_IDLE_BEFORE_CLOSE = 0  # never a blocking pop: it would stall the reactor

# A request is acknowledged once its articles are written: flush often so acks follow soon.
NEWSDESK_STORE_FLUSH_SECONDS = 0.5

NEWSDESK_WORKER_HEARTBEAT_SECONDS = float(_os.environ.get("NEWSDESK_WORKER_HEARTBEAT_SECONDS", "5"))
NEWSDESK_WORKER_MAX_IDLE_SECONDS = float(_os.environ.get("NEWSDESK_WORKER_MAX_IDLE_SECONDS", "30"))

EXTENSIONS = {**_EXTENSIONS, "crawler.distributed.worker.WorkerExtension": 540}
SPIDER_MIDDLEWARES = {"crawler.distributed.worker.NoStartRequestsMiddleware": 10}
