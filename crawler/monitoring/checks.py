"""Per-run checks: a spidermon suite run when a crawl closes, its verdicts put into the stats.

A template change rarely makes a crawl fail; it makes it succeed with nothing in it. So every
crawl is checked against what a healthy crawl of its outlet looks like: enough article links
found on its list pages or feeds, each of title/body/published/authors present on most
articles, no errors, few retries, a clean finish, and few articles that needed the generic
fallback extractor because the outlet's selectors missed.

The verdicts go into the crawl's stats (``newsdesk/checks/<check>`` = ``ok``, ``failed: ...``
or ``skipped: ...``; ``newsdesk/checks/failed`` = how many failed), which RunRecorder writes
onto the run in ``runs`` at engine_stopped, after this suite ran at spider_closed. The same
figures are computed from stats by `run_metrics`, which cross-run health reads too.

Coverage is counted over every article the spider produced (stored or dropped by a
pipeline), not only the stored ones: a page without a date is dropped by validation, and it is
exactly the article a coverage check must see.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from spidermon import Monitor, MonitorSuite
from spidermon.contrib.scrapy.extensions import Spidermon
from spidermon.contrib.scrapy.runners import SpiderMonitorResult, SpiderMonitorRunner
from spidermon.core.actions import Action

log = logging.getLogger(__name__)

FIELDS = ("title", "body", "published", "authors")
COVERAGE = "newsdesk/coverage"
CHECKS = "newsdesk/checks"

DEFAULT_FIELD_COVERAGE = {"title": 0.95, "body": 0.9, "published": 0.9, "authors": 0.5}


# -- figures out of a crawl's stats (also for stats read back from a run document) ----------
def _int(stats: Mapping[str, Any], key: str) -> int:
    value = stats.get(key, 0)
    return int(value) if isinstance(value, (int, float)) else 0


def run_metrics(stats: Mapping[str, Any]) -> dict[str, Any]:
    """What the checks and cross-run health compare, from one crawl's stats.

    ``listed`` is the article links the crawl found on its entry points, new or already stored
    (an incremental crawl fetches few articles, but a healthy list page always shows many);
    ``items`` the articles the spider produced; shares are None when nothing was produced.
    """
    listed = (
        sum(_int(stats, k) for k in stats if k.startswith("newsdesk/discovered/"))
        + _int(stats, "newsdesk/incremental/skipped_known")
        + _int(stats, "newsdesk/articles_over_limit")
    )
    items = _int(stats, f"{COVERAGE}/items")
    parsed = _int(stats, "newsdesk/articles_parsed") or items
    statuses = {
        key.rsplit("/", 1)[1]: _int(stats, key)
        for key in stats
        if key.startswith("downloader/response_status_count/")
    }
    return {
        "listed": listed,
        "items": items,
        "parsed": parsed,
        "coverage": {f: (round(_int(stats, f"{COVERAGE}/{f}") / items, 4) if items else None) for f in FIELDS},
        "fallback_share": round(min(1.0, _int(stats, "newsdesk/fallback/articles") / parsed), 4) if parsed else None,
        "fallback_fields": {
            key.removeprefix("newsdesk/fallback/"): _int(stats, key)
            for key in stats
            if key.startswith("newsdesk/fallback/") and key != "newsdesk/fallback/articles"
        },
        "list_pages": _int(stats, "newsdesk/list_pages") + _int(stats, "newsdesk/feeds"),
        "list_selector_missed": _int(stats, "newsdesk/list_selector_missed"),
        "requests": _int(stats, "downloader/request_count"),
        "responses": _int(stats, "downloader/response_count"),
        "statuses": statuses,
        "retries": _int(stats, "retry/count"),
        "errors": _int(stats, "log_count/ERROR") + _int(stats, "newsdesk/parse_errors"),
        "finish_reason": stats.get("finish_reason"),
    }


def check_results(stats: Mapping[str, Any]) -> dict[str, str]:
    """The verdicts a checked crawl left in its stats: {check: "ok" | "failed: ..." | ...}."""
    prefix = f"{CHECKS}/"
    return {
        key.removeprefix(prefix): str(value)
        for key, value in stats.items()
        if key.startswith(prefix) and key != f"{CHECKS}/failed"
    }


def run_summary(stats: Mapping[str, Any]) -> dict[str, Any]:
    """The `checks` field of a run document: verdicts plus the figures health reads."""
    results = check_results(stats)
    return {
        "results": results,
        "failed": sorted(name for name, verdict in results.items() if verdict.startswith(("failed", "error"))),
        **run_metrics(stats),
    }


# -- what an outlet should look like --------------------------------------------------------
def expected_min_items(spec: Any, settings: Any, *, local_copy: bool = False) -> int:
    """Article links a crawl of `spec` should find at least: the outlet's own
    `expected_min_items`, else NEWSDESK_CHECK_MIN_ITEMS_PER_ENTRY per feed or list URL (a
    live list page or feed shows ten or more). A local copy of a site (``base_url``) holds a
    handful of saved pages, so there only "none at all" fails."""
    if local_copy:
        return 1
    own = getattr(spec, "expected_min_items", None)
    if own is not None:
        return int(own)
    entries = len(spec.rss_urls) or len(spec.list_urls)
    entries += len(spec.sitemap_urls)
    return max(1, entries) * settings.getint("NEWSDESK_CHECK_MIN_ITEMS_PER_ENTRY", 5)


def field_thresholds(settings: Any) -> dict[str, float]:
    configured = settings.getdict("NEWSDESK_CHECK_FIELD_COVERAGE") or {}
    return {f: float(configured.get(f, DEFAULT_FIELD_COVERAGE[f])) for f in FIELDS}


# -- counting coverage during the crawl ------------------------------------------------------
def _present(adapter: ItemAdapter, field: str, min_body: int) -> bool:
    value = adapter.get(field) if field in adapter.field_names() else None
    if field == "body":
        return len((value or "").strip()) >= min_body or bool(adapter.get("images"))
    if field == "title":
        return bool((value or "").strip())
    return bool(value)


class ArticleCoverage:
    """Counts, per field, the articles that have it: every item the spider produced, whether a
    pipeline stored it, dropped it, or failed on it (``newsdesk/coverage/...``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.min_body = crawler.settings.getint("NEWSDESK_MIN_BODY_CHARS", 80)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ArticleCoverage":
        ext = cls(crawler)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(ext.count, signal=signal, weak=False)
        return ext

    def count(self, item: Any, **_: Any) -> None:
        try:
            adapter = ItemAdapter(item)
        except TypeError:  # not an item type itemadapter knows: not an article
            return
        self.stats.inc_value(f"{COVERAGE}/items")
        for field in FIELDS:
            if _present(adapter, field, self.min_body):
                self.stats.inc_value(f"{COVERAGE}/{field}")
            else:
                self.stats.inc_value(f"{COVERAGE}/{field}", 0)  # present as 0, not missing


# -- the monitors ----------------------------------------------------------------------------
class _RunMonitor(Monitor):
    """Reads the figures once; settings and spider come from the crawler spidermon passes."""

    longMessage = False  # the reason alone, without unittest's "x not greater than y :"

    @property
    def figures(self) -> dict[str, Any]:
        if not hasattr(self, "_figures"):
            self._figures = run_metrics(self.data.stats)
        return self._figures

    @property
    def settings(self) -> Any:
        return self.data.crawler.settings

    def sample_too_small(self) -> None:
        least = self.settings.getint("NEWSDESK_CHECK_MIN_SAMPLE", 3)
        if self.figures["items"] < least:
            self.skipTest(f"{self.figures['items']} articles, fewer than {least}")


class ItemCountMonitor(_RunMonitor):
    def test_items(self) -> None:
        """Enough article links on the outlet's list pages or feeds."""
        spider = self.data.spider
        spec = getattr(spider, "outlet", None)
        if spec is None:
            self.skipTest("not an outlet spider")
        least = expected_min_items(spec, self.settings, local_copy=bool(getattr(spider, "base_url", None)))
        listed = self.figures["listed"]
        self.assertGreaterEqual(listed, least, f"{listed} article links found, expected at least {least}")


class FieldCoverageMonitor(_RunMonitor):
    def _coverage(self, field: str) -> None:
        self.sample_too_small()
        share = self.figures["coverage"][field]
        least = field_thresholds(self.settings)[field]
        self.assertGreaterEqual(share, least, f"{field} on {share:.0%} of articles, expected at least {least:.0%}")

    def test_coverage_title(self) -> None:
        self._coverage("title")

    def test_coverage_body(self) -> None:
        self._coverage("body")

    def test_coverage_published(self) -> None:
        self._coverage("published")

    def test_coverage_authors(self) -> None:
        self._coverage("authors")


class ErrorMonitor(_RunMonitor):
    def test_errors(self) -> None:
        most = self.settings.getint("NEWSDESK_CHECK_MAX_ERRORS", 0)
        errors = self.figures["errors"]
        self.assertLessEqual(errors, most, f"{errors} errors logged, at most {most} expected")

    def test_retries(self) -> None:
        share = self.settings.getfloat("NEWSDESK_CHECK_MAX_RETRY_SHARE", 0.2)
        retries, requests = self.figures["retries"], max(1, self.figures["requests"])
        self.assertLessEqual(retries / requests, share,
                             f"{retries} retries for {requests} requests, at most {share:.0%} expected")


class FinishReasonMonitor(_RunMonitor):
    def test_finish_reason(self) -> None:
        allowed = self.settings.getlist("NEWSDESK_CHECK_FINISH_REASONS", ["finished"])
        reason = self.figures["finish_reason"]
        self.assertIn(reason, allowed, f"closed with {reason!r}, expected one of {', '.join(allowed)}")


class FallbackMonitor(_RunMonitor):
    def test_fallback_share(self) -> None:
        self.sample_too_small()
        most = self.settings.getfloat("NEWSDESK_CHECK_MAX_FALLBACK_SHARE", 0.5)
        share = self.figures["fallback_share"] or 0.0
        fields = ", ".join(f for f, n in sorted(self.figures["fallback_fields"].items()) if n)
        self.assertLessEqual(share, most,
                             f"{share:.0%} of articles needed the generic fallback ({fields}), at most {most:.0%} expected")


class RecordChecks(Action):
    """Puts each verdict into the crawl's stats and logs one line (a warning if any failed)."""

    def run_action(self) -> None:
        crawler = self.data.crawler
        failed: list[str] = []
        for outcome in self.result.monitor_results:
            monitor = outcome.item
            name = monitor.method_name.removeprefix("test_")
            if outcome.status == "OK":
                verdict = "ok"
            elif outcome.status == "SKIPPED":
                verdict = f"skipped: {outcome.reason}"
            elif outcome.status == "FAIL":
                verdict = f"failed: {outcome.reason}"
            else:  # a monitor that raised: its last line says what
                lines = [line for line in (outcome.error or "").strip().splitlines() if line.strip()]
                verdict = f"error: {lines[-1].strip() if lines else 'unknown'}"
            if verdict.startswith(("failed", "error")):
                failed.append(f"{name} ({verdict.split(': ', 1)[1]})")
            crawler.stats.set_value(f"{CHECKS}/{name}", verdict)
        crawler.stats.set_value(f"{CHECKS}/failed", len(failed))
        spider = self.data.spider
        name = getattr(spider, "name", "?")
        if failed:
            log.warning("crawl checks of %s: %d failed: %s", name, len(failed), "; ".join(failed))
        else:
            log.info("crawl checks of %s: all passed", name)


class RunChecks(MonitorSuite):
    """What a healthy crawl of an outlet looks like (SPIDERMON_SPIDER_CLOSE_MONITORS)."""

    monitors = [ItemCountMonitor, FieldCoverageMonitor, ErrorMonitor, FinishReasonMonitor, FallbackMonitor]
    monitors_finished_actions = [RecordChecks]


# -- spidermon, quietly ----------------------------------------------------------------------
class _QuietResult(SpiderMonitorResult):
    """spidermon's result writes ~20 INFO lines a run through the deprecated Spider.log();
    here they go to this module's logger at DEBUG, and RecordChecks writes the one line."""

    def log(self, msg: Any, level: int = logging.DEBUG) -> None:
        log.debug("%s", msg)


class _QuietRunner(SpiderMonitorRunner):
    def create_result(self) -> SpiderMonitorResult:
        return _QuietResult(self.spider)


class NewsdeskSpidermon(Spidermon):
    """spidermon's extension (SPIDERMON_ENABLED, SPIDERMON_SPIDER_CLOSE_MONITORS, ...) with its
    run report at DEBUG. A failing monitor must not fail the crawl's shutdown either."""

    def _run_suites(self, spider: Any, suites: list[Any]) -> None:
        data = self._generate_data_for_spider(spider)
        for suite in suites:
            try:
                _QuietRunner(spider=spider).run(suite, **data)
            except Exception:  # noqa: BLE001 - monitoring never breaks a crawl
                log.exception("monitor suite %s could not run", type(suite).__name__)
