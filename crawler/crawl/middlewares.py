"""Downloader middlewares: retries with backoff, and counts of what broken sites serve.

Retries with backoff: Scrapy's RetryMiddleware re-queues at once, which is exactly what a
struggling regional site (5xx) or a rate limiter (429) does not want. BackoffRetryMiddleware
keeps Scrapy's retry accounting (stats, max_retry_times, give-up logging) and, before handing
the retry back, pauses the whole download slot (the host) for Retry-After when the server sent
one, exponential backoff otherwise, both capped: every request to that host waits, not only
the retried one, and nothing sleeps while holding a concurrency slot.

FaultStatsMiddleware counts in the stats what Scrapy does not: slow answers, empty, truncated
or malformed pages, and a charset the page contradicts.
"""

from __future__ import annotations

import codecs
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.settings import BaseSettings
from scrapy.utils.response import response_status_message

from crawler.text.encoding import header_charset, meta_charset, normalize_encoding

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response


def retry_after_seconds(value: bytes | str | None, *, now: datetime | None = None) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP-date; None when absent or bad."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware that waits before a retry (Retry-After, else base * 2**(n-1), capped)."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("NEWSDESK_RETRY_BACKOFF_BASE", 2.0)
        self.backoff_max = settings.getfloat("NEWSDESK_RETRY_BACKOFF_MAX", 120.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "BackoffRetryMiddleware":
        mw = cls(crawler.settings)
        mw.crawler = crawler
        return mw

    def delay_for(self, retry_request: Request, response: Response | None) -> float:
        """Seconds to wait before `retry_request` goes back to the scheduler."""
        if response is not None:
            hinted = retry_after_seconds(response.headers.get(b"Retry-After"))
            if hinted is not None:
                return min(hinted, self.backoff_max)
        attempt = max(1, int(retry_request.meta.get("retry_times", 1)))
        return min(self.backoff_base * (2 ** (attempt - 1)), self.backoff_max)

    def pause_slot(self, request: Request, seconds: float) -> None:
        """Hold every request to the request's host for `seconds` (Scrapy's slot delay logic)."""
        engine = getattr(self.crawler, "engine", None)
        downloader = getattr(engine, "downloader", None)
        if downloader is None or seconds <= 0:
            return
        key = request.meta.get("download_slot") or downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is None:
            return
        # The downloader holds a slot while monotonic() - lastseen < delay, and only when delay
        # is non-zero: a millisecond delay costs nothing and makes the pause apply.
        slot.delay = max(slot.delay, 0.001)
        slot.lastseen = max(slot.lastseen, monotonic() + seconds)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("newsdesk/retry/slot_paused")
            self.crawler.stats.max_value("newsdesk/retry/max_pause_seconds", round(seconds, 1))

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"newsdesk/retry/status/{response.status}")
        self.pause_slot(request, self.delay_for(retry, response))
        return retry

    def process_exception(self, request: Request, exception: Exception) -> Request | None:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self._retry(request, exception)
        if retry is None:
            return None
        self.pause_slot(request, self.delay_for(retry, None))
        return retry


_CHARSET_SAMPLE = 64 * 1024


class FaultStatsMiddleware:
    """Counts what a broken site serves that Scrapy does not count itself, so a run's stats
    (and `newsdesk runs`) say what went wrong: slow answers, empty bodies, HTML cut short,
    tag soup, and a Content-Type charset the page contradicts. Counters only: the page goes on
    to the spider, which copes (charset-aware decoding, fallback extraction, named drops).
    Sits behind RetryMiddleware and RedirectMiddleware (counts the final 200s) at 560.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.slow_seconds = crawler.settings.getfloat("NEWSDESK_SLOW_RESPONSE_SECONDS", 10.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "FaultStatsMiddleware":
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        latency = request.meta.get("download_latency")
        if latency is not None and latency >= self.slow_seconds:
            self.stats.inc_value("newsdesk/faults/slow_response")
        if response.status != 200 or request.meta.get("newsdesk_kind") not in ("article", "list"):
            return response
        for fault in page_faults(response.body, response.headers.get(b"Content-Type")):
            self.stats.inc_value(f"newsdesk/faults/{fault}")
        return response


def page_faults(body: bytes, content_type: bytes | None) -> list[str]:
    """Names of what is wrong with an HTML page's bytes (cheap byte counts, no parsing, no
    copy of the body: this runs on every page, on the crawl's one thread)."""
    if not body or body.isspace():
        return ["empty_body"]
    faults = []
    tail = body[-4096:].lower()
    if b"</html" not in tail and b"</body" not in tail:
        faults.append("truncated_html")
    opened = body.count(b"<div") + body.count(b"<DIV")
    closed = body.count(b"</div") + body.count(b"</DIV")
    if opened > 2 * closed + 10:
        faults.append("malformed_html")
    claimed = normalize_encoding(header_charset(content_type))
    if claimed and claimed not in ("latin_1", "iso8859_1", "cp1252", "ascii"):
        declared = normalize_encoding(meta_charset(body))
        try:
            # the first 64 KB tell: text in another charset fails within its first line; an
            # incremental decoder does not fail on a character the cut splits
            codecs.getincrementaldecoder(claimed)().decode(body[:_CHARSET_SAMPLE], final=len(body) <= _CHARSET_SAMPLE)
            decodes = True
        except (UnicodeDecodeError, LookupError):
            decodes = False
        if not decodes or (declared and declared != claimed):
            faults.append("charset_mismatch")
    return faults
