"""Tests: local fixture servers only, so no throttling and no delays; small batches so a
handful of articles still exercises the batching code."""

AUTOTHROTTLE_ENABLED = False
DOWNLOAD_DELAY = 0
CONCURRENT_REQUESTS_PER_DOMAIN = 8
RETRY_TIMES = 1
NEWSDESK_RETRY_BACKOFF_BASE = 0.1
NEWSDESK_STORE_BATCH_SIZE = 4  # 6 articles per site: one full batch, and a flush at close
LOG_LEVEL = "WARNING"
NEWSDESK_BACKFILL_DOWNLOAD_DELAY = 0
NEWSDESK_BACKFILL_CONCURRENT_REQUESTS_PER_DOMAIN = 4
NEWSDESK_BACKFILL_STORE_BATCH_SIZE = 4
