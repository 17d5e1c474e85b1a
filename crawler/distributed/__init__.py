"""Distributed crawling on scrapy-redis: one shared request queue and dupefilter per outlet.

Switched on by settings (settings/distributed.py, loaded when NEWSDESK_ENV=distributed or
REDIS_URL is set outside tests); spiders do not change. The scheduler seeds each outlet's
start requests into Redis (crawler.distributed.seed); `newsdesk worker` processes take
requests from there, run the same pipelines into the same MongoDB, and close when idle.

scrapy-redis pops a request and forgets it, so a worker killed mid-crawl would lose what it
was fetching. Here every popped request is also parked under a token in a processing hash,
with the worker that took it, until the engine is done with it, items stored included
(crawler.distributed.queue, crawler.distributed.worker); a worker that stops heartbeating has
its parked requests put back in the queue by any other worker. A page parsed again that way
must find its requests again: scrapy-redis records a request in the round's dupefilter and
queues it in two steps, so a worker killed between them left a "seen" request that was never
queued; crawler.distributed.scheduler.RoundScheduler does both in one Lua script.
"""
