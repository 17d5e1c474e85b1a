"""Settings shared by every environment: polite crawling, the pipeline order, storage.

Politeness is the default, not an option: regional outlets are small sites run on small
budgets, and a crawler that is blocked learns nothing. Overlays (dev/prod/test) only change
what differs.
"""

import json as _json
import os as _os
from typing import Any

# The story defaults come from crawler.dedup.params, a light module (no numpy) that
# bench/dedup_bench.py checks.
from crawler.dedup import params as _story

BOT_NAME = "newsdesk"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --- Identity and politeness -------------------------------------------------------------
# Who site owners can write to about this crawler: set NEWSDESK_CONTACT for real crawls.
NEWSDESK_CONTACT = _os.environ.get("NEWSDESK_CONTACT", "newsdesk-operator@example.org")
USER_AGENT = f"newsdesk/0.1 (+mailto:{NEWSDESK_CONTACT}; Korean regional news archive)"
ROBOTSTXT_OBEY = True

AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_DELAY = 0.5
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Items of one response processed at once. Scrapy starts this many asyncio tasks for every
# callback's output (default 100) and an article page yields one item (bench/throughput_bench.py).
CONCURRENT_ITEMS = 8
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024  # a news page over 8 MB is not a news page
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024

# 5xx and 429 are retried with exponential backoff; 429's Retry-After is honoured
# (crawler.crawl.middlewares.BackoffRetryMiddleware replaces Scrapy's RetryMiddleware at the same slot).
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
NEWSDESK_RETRY_BACKOFF_BASE = 2.0  # seconds; doubled per attempt
NEWSDESK_RETRY_BACKOFF_MAX = 120.0  # never wait longer than this, whatever Retry-After says
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.crawl.middlewares.BackoffRetryMiddleware": 550,
    # counts what Scrapy does not: slow answers, empty/truncated/malformed pages, lying charsets
    "crawler.crawl.middlewares.FaultStatsMiddleware": 560,
}
NEWSDESK_SLOW_RESPONSE_SECONDS = 10.0  # an answer this slow counts as newsdesk/faults/slow_response

# Local ports are opened by these two; off unless an operator turns them on.
TELNETCONSOLE_ENABLED = False
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "crawler.crawl.extensions.progress.ProgressExtension": 500,
    "crawler.crawl.extensions.backfill_progress.BackfillProgress": 505,  # `newsdesk backfill` only
    "crawler.crawl.extensions.stats_file.StatsFileExtension": 510,
    # Scheduled crawls only (NotConfigured otherwise): stats onto the run document, and close
    # when the scheduler that started the crawl is gone.
    "crawler.crawl.extensions.scheduled.RunRecorder": 520,
    "crawler.crawl.extensions.scheduled.ParentWatchdog": 530,
    # At the crawl's end: index the articles the store queued for search (crawler/search/queue.py)
    "crawler.crawl.extensions.search_index.SearchIndexAtCrawlEnd": 525,
    # Large allocations (the story index's arrays, read batches) mapped and unmapped instead of
    # left in the heap when freed (crawler/crawl/extensions/malloc.py; glibc only)
    "crawler.crawl.extensions.malloc.MallocTuning": 10,
}
NEWSDESK_MALLOC_MMAP_THRESHOLD = 128 * 1024  # bytes; 0 = glibc's dynamic threshold
# Scrapy's duplicate filter with 8 bytes of each request's fingerprint in one array (12-24 bytes
# a request instead of ~95: crawler/crawl/dupefilter.py); JOBDIR's requests.seen keeps Scrapy's format.
DUPEFILTER_CLASS = "crawler.crawl.dupefilter.CompactDupeFilter"

# Scrapy >= 2.19's remote-control extension (job files under ~/.local/state/scrapy).
REMOTE_CONTROL_ENABLED = False

# --- Pipelines: one job each, ordered (pipelines/__init__.py) ------------------------------
# Article pages are parsed, normalized and story-signed by worker processes (crawler/crawl/parse_pool.py)
# so the crawl's own core stays with Scrapy: "auto" = one on two cores, cores - 1 (at most 4) on
# larger machines, none on one core; 0 = parse in the crawl process.
NEWSDESK_PARSE_PROCESSES = "auto"

ITEM_PIPELINES = {
    "pipelines.normalize.NormalizePipeline": 100,
    "pipelines.places.PlacesPipeline": 150,
    "pipelines.validate.ValidatePipeline": 200,
    "pipelines.dedup.DedupPipeline": 300,
    "pipelines.store.MongoStorePipeline": 800,
}

# Validation
NEWSDESK_MIN_BODY_CHARS = 80
NEWSDESK_MAX_FUTURE_SKEW_MINUTES = 60  # a published time later than now + this is wrong
NEWSDESK_OLDEST_PUBLISHED_YEAR = 1990

# Storage: MONGO_URI from the environment wins; unset means the embedded SecantusDB under
# NEWSDESK_DATA_DIR (default ./data).
NEWSDESK_STORE_BATCH_SIZE = 100
NEWSDESK_STORE_FLUSH_SECONDS = 5.0
NEWSDESK_STORE_MAX_PENDING = 4  # batches waiting for the writer before items wait too

# Dedup: story clusters over articles first seen in the last N days, at most
# NEWSDESK_STORY_INDEX_MAX_ARTICLES of them (one index per crawl process, shared by its crawlers).
NEWSDESK_STORY_WINDOW_DAYS = 7
# 20,000: a few days of what all the configured outlets publish, in tens of MB (the index's
# memory per 1,000 articles: bench/dedup_bench.py; its size at the end of a long crawl,
# newsdesk/dedup/index_mb: bench/soak_bench.py). The oldest first seen are evicted first
# (reprints of a story appear within a day or two).
NEWSDESK_STORY_INDEX_MAX_ARTICLES = _story.DEFAULT_MAX_ARTICLES
NEWSDESK_STORY_REFRESH_SECONDS = 60  # pick up what concurrent crawls stored
# score (containment + title and paraphrase evidence) at which two texts are one story:
# 0.82, chosen on the labelled pairs (bench/dedup_bench.py prints its precision and recall there)
NEWSDESK_STORY_THRESHOLD = _story.DEFAULT_THRESHOLD

# Incremental crawls: stored articles are not fetched again, except within this many hours
# after publication, when corrections are likely
NEWSDESK_INCREMENTAL = True
NEWSDESK_REVISIT_HOURS = 48
NEWSDESK_REVISIT_EVERY_HOURS = 6  # within the window, an article is refetched at most this often

# Navigation
# A list page's articles are fetched before the list page after the next one: a request's
# priority is minus its depth (Scrapy's DepthMiddleware; list page N+1 and page N's articles
# share a depth, so the next page is read while its predecessor's articles are fetched). With
# one priority, Scrapy's last-in-first-out queue would read list pages far ahead of the
# articles and hold their requests (~1 KB each) by the ten thousand in a long crawl
# (bench/soak_bench.py); this way at most about two pages' worth wait
# (tests/spiders/test_queue_bound.py).
DEPTH_PRIORITY = 1
NEWSDESK_MAX_LIST_PAGES = 3  # pages per list/section entry point, newest first
NEWSDESK_MAX_SITEMAPS = 3  # child sitemaps followed from a sitemap index, newest first
NEWSDESK_MAX_ARTICLES = 0  # 0 = no cap; `newsdesk crawl --max-articles` sets it

# Scheduler (`newsdesk run`; read by the scheduler process, not by crawls). Each can also be
# set in the environment of `newsdesk run` (a systemd unit's Environment=), which wins.
def _env(name: str, default: Any) -> Any:
    raw = _os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return type(default)(raw.strip())
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a {type(default).__name__}") from None


NEWSDESK_CRAWL_TIME_LIMIT = _env("NEWSDESK_CRAWL_TIME_LIMIT", 25 * 60)  # s; SIGTERM, then SIGKILL
NEWSDESK_MAX_CONCURRENT_CRAWLS = _env("NEWSDESK_MAX_CONCURRENT_CRAWLS", 4)  # more wait their turn
NEWSDESK_SCHEDULE_SYNC_SECONDS = _env("NEWSDESK_SCHEDULE_SYNC_SECONDS", 20.0)  # `schedule ...` reaches it
NEWSDESK_LEASE_TTL_SECONDS = _env("NEWSDESK_LEASE_TTL_SECONDS", 90.0)  # a dead owner's lease expires
NEWSDESK_RUNS_KEEP_DAYS = _env("NEWSDESK_RUNS_KEEP_DAYS", 90.0)  # older run history is deleted; 0 = keep
# Search: every crawl indexes what it stored when it ends; the scheduler also drains the queue
# this often, for what crawls killed before their end left queued (crawler/search/queue.py)
NEWSDESK_SEARCH_INDEX_SECONDS = _env("NEWSDESK_SEARCH_INDEX_SECONDS", 300.0)
NEWSDESK_SCRAPYD_URL = _env("NEWSDESK_SCRAPYD_URL", "")  # http://user:pass@host:6800 = crawl on scrapyd
NEWSDESK_SCRAPYD_PROJECT = _env("NEWSDESK_SCRAPYD_PROJECT", "newsdesk")

# --- Backfill (`newsdesk backfill`: an outlet's past, crawler/spiders/backfill.py) ----------
# Thousands of old pages from one small site: a backfill is politer than a scheduled crawl.
# Each replaces the Scrapy setting it names for the backfill's crawl; the environment wins.
NEWSDESK_BACKFILL_CONCURRENT_REQUESTS_PER_DOMAIN = _env("NEWSDESK_BACKFILL_CONCURRENT_REQUESTS_PER_DOMAIN", 2)
NEWSDESK_BACKFILL_DOWNLOAD_DELAY = _env("NEWSDESK_BACKFILL_DOWNLOAD_DELAY", 1.0)  # s, AutoThrottle's floor
NEWSDESK_BACKFILL_AUTOTHROTTLE_TARGET_CONCURRENCY = _env("NEWSDESK_BACKFILL_AUTOTHROTTLE_TARGET_CONCURRENCY", 1.0)
# What a kill catches downloaded but not yet stored is fetched again on resume: smaller store
# batches than a crawl's, and fewer answers waiting to be parsed (Scrapy's
# SCRAPER_SLOT_MAX_ACTIVE_SIZE, bytes; a few article pages instead of ~40)
NEWSDESK_BACKFILL_STORE_BATCH_SIZE = _env("NEWSDESK_BACKFILL_STORE_BATCH_SIZE", 10)
NEWSDESK_BACKFILL_SCRAPER_MAX_ACTIVE_SIZE = _env("NEWSDESK_BACKFILL_SCRAPER_MAX_ACTIVE_SIZE", 1_000_000)
NEWSDESK_BACKFILL_LIST_DATE_MARGIN_HOURS = 24  # listed this long after --until: not fetched
NEWSDESK_BACKFILL_ID_BATCH = 20  # NDSoft ids requested together when the lists ran out
NEWSDESK_BACKFILL_ID_EMPTY_BATCHES = 5  # batches in a row with no article: the ids ended
NEWSDESK_BACKFILL_PROGRESS = False  # the progress line (`newsdesk backfill` turns it on)
NEWSDESK_BACKFILL_PROGRESS_SECONDS = 10.0

# --- Monitoring (crawler/monitoring; README "Monitoring") ---------------------------------
# Per-run checks: a spidermon suite when each crawl closes; verdicts land on the run in `runs`.
SPIDERMON_ENABLED = True
SPIDERMON_SPIDER_CLOSE_MONITORS = ["crawler.monitoring.checks.RunChecks"]
EXTENSIONS = {
    **EXTENSIONS,
    "crawler.monitoring.checks.ArticleCoverage": 540,  # per-field coverage of every article
    "crawler.monitoring.checks.NewsdeskSpidermon": 550,  # spidermon, its report at DEBUG
}
NEWSDESK_CHECK_MIN_ITEMS_PER_ENTRY = 5  # article links per feed/list URL, unless the outlet sets expected_min_items
NEWSDESK_CHECK_FIELD_COVERAGE = {"title": 0.95, "body": 0.9, "published": 0.9, "authors": 0.5}
NEWSDESK_CHECK_MIN_SAMPLE = 3  # coverage and fallback share are judged on runs with this many articles
NEWSDESK_CHECK_MAX_ERRORS = 0  # ERROR log lines and unparseable pages
NEWSDESK_CHECK_MAX_RETRY_SHARE = 0.2  # retries per request
NEWSDESK_CHECK_MAX_FALLBACK_SHARE = 0.5  # articles needing the generic extractor for some field
NEWSDESK_CHECK_FINISH_REASONS = ["finished"]

# Health across runs, per outlet, against its own history (crawler/monitoring/conditions.py)
NEWSDESK_HEALTH_ENABLED = True  # evaluate health and alert after every run
NEWSDESK_HEALTH_BASELINE_DAYS = 14  # articles a day: the days before today
NEWSDESK_HEALTH_BASELINE_MIN_DAYS = 2  # less history: no baseline, never silent
NEWSDESK_HEALTH_SILENT_HOURS = 12.0  # silent: no new article for max(this,
NEWSDESK_HEALTH_SILENT_GAPS = 4.0  #   this many usual gaps between articles) ...
NEWSDESK_HEALTH_SILENT_MIN_PER_DAY = 3.0  #   ... for outlets that usually publish this many a day
NEWSDESK_HEALTH_DRIFT_FALLBACK_JUMP = 0.3  # drift: fallback share up by this (absolute) over usual,
NEWSDESK_HEALTH_DRIFT_COVERAGE_DROP = 0.3  #   or a field's coverage down by this,
NEWSDESK_HEALTH_DRIFT_LISTED_DROP = 0.7  #   or article links found down by this fraction
NEWSDESK_HEALTH_DRIFT_REFERENCE_RUNS = 20  # "usual" = median of this many latest unaffected runs
NEWSDESK_HEALTH_FAILING_RUNS = 2  # failing: this many crawls in a row failed
NEWSDESK_HEALTH_BLOCKED_STATUSES = [403, 429]  # blocked: in the last crawl, at least
NEWSDESK_HEALTH_BLOCKED_MIN_RESPONSES = 5  #   this many such answers
NEWSDESK_HEALTH_BLOCKED_SHARE = 0.2  #   and this share of all answers


# Alerts: one when a condition starts, one when it ends; to the log and these webhooks:
# [{"url": "https://hooks.slack.com/services/...", "kind": "slack"}, {"url": ..., "kind": "json"}]
# The environment variable of the same name (JSON) wins, so URLs with tokens stay out of files.
def _json_env(name: str, default: Any) -> Any:
    raw = _os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return _json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"{name}: expected JSON such as [{{\"url\": \"https://...\", \"kind\": \"slack\"}}] ({exc})") from None


NEWSDESK_ALERT_WEBHOOKS = _json_env("NEWSDESK_ALERT_WEBHOOKS", [])
NEWSDESK_ALERT_TIMEOUT = _env("NEWSDESK_ALERT_TIMEOUT", 10.0)  # s per POST
NEWSDESK_ALERT_ATTEMPTS = _env("NEWSDESK_ALERT_ATTEMPTS", 3)  # per message, with backoff
NEWSDESK_ALERT_BACKOFF = _env("NEWSDESK_ALERT_BACKOFF", 2.0)  # s before the 2nd attempt, doubled after
NEWSDESK_ALERT_RETRY_HOURS = _env("NEWSDESK_ALERT_RETRY_HOURS", 24.0)  # undelivered: retried at later checks

# Progress display (the CLI turns it on; plain `scrapy crawl` logs instead)
NEWSDESK_PROGRESS = False

LOG_LEVEL = "INFO"
LOG_FORMATTER = "crawler.crawl.logformatter.NewsdeskLogFormatter"
FEED_EXPORT_ENCODING = "utf-8"
