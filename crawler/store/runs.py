"""Run history: one document per crawl in the ``runs`` collection.

The scheduler opens a run before a crawl starts (status ``running``), the crawl process adds
its Scrapy stats when it closes (crawler.crawl.extensions.scheduled.RunRecorder, so a crawl on a
scrapyd host reports the same way), and the scheduler closes the run with how the process
ended. A run left ``running`` by a scheduler that died is marked ``abandoned`` when its lease
is taken over. Health checks, `newsdesk runs` and the dashboard read this collection.

Stats keys are Scrapy's (``downloader/response_count``); the dots of exception class names in
some keys are stored as U+FF0E (．) because dotted field names are awkward to query.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Iterator, Mapping

from pymongo import DESCENDING
from pymongo.collection import Collection
from pymongo.database import Database

from crawler.store.keyset import Cursor, newest

RUNS = "runs"

# Statuses a run can end in; "running" is the only open one.
RUNNING = "running"
FINISHED = "finished"      # the crawl ran to its end (finish_reason "finished")
FAILED = "failed"          # exit code != 0, a crash, or Scrapy closed it for another reason
TIMEOUT = "timeout"        # stopped at the time limit
ABANDONED = "abandoned"    # its scheduler died; found when the lease was taken over
SKIPPED = "skipped"        # a manual run that found the outlet already crawling elsewhere
LEASE_LOST = "lease_lost"  # stopped because its lease was lost (database away, clock skew)
FAILED_STATUSES = (FAILED, TIMEOUT, ABANDONED, LEASE_LOST)  # ended without doing its work

# What reads of whole runs leave out: the raw Scrapy stats, and each distributed worker's copy.
WITHOUT_STATS = {"stats": 0, "workers": 0}
FIRST_SLICE = timedelta(days=1)  # the newest slice of `started` read first when looking back
FAR_BACK = timedelta(days=36600)  # "ever": where looking back stops when no floor is given


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _escape_key(key: str) -> str:
    return key.replace(".", "\uff0e").replace("$", "\uff04")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {_escape_key(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def summarize(stats: Mapping[str, Any]) -> dict[str, Any]:
    """The figures operators and health checks read, pulled out of a crawl's Scrapy stats."""
    dropped = {
        key.removeprefix("newsdesk/dropped/"): int(value)
        for key, value in stats.items()
        if key.startswith("newsdesk/dropped/") and isinstance(value, (int, float))
    }
    statuses = {
        key.rsplit("/", 1)[1]: int(value)
        for key, value in stats.items()
        if key.startswith("downloader/response_status_count/")
    }
    return {
        "finish_reason": stats.get("finish_reason"),
        "pages": int(stats.get("downloader/response_count", 0)),
        "items": int(stats.get("item_scraped_count", 0)),
        "articles": {
            "new": int(stats.get("newsdesk/articles/new", 0)),
            "updated": int(stats.get("newsdesk/articles/updated", 0)),
            "unchanged": int(stats.get("newsdesk/articles/unchanged", 0)),
        },
        "dropped": dropped,
        "errors": {
            "log_errors": int(stats.get("log_count/ERROR", 0)),
            "spider_exceptions": int(stats.get("spider_exceptions/count", 0)) or sum(
                int(v) for k, v in stats.items() if k.startswith("spider_exceptions/") and k.count("/") == 1
            ),
            "download_errors": int(stats.get("downloader/exception_count", 0)),
            "store_errors": int(stats.get("newsdesk/store/errors", 0)),
            "deadlettered": int(stats.get("newsdesk/store/deadlettered", 0)),
        },
        "http_status": statuses,
        "retries": int(stats.get("retry/count", 0)),
        "fallback_articles": int(stats.get("newsdesk/fallback/articles", 0)),
        "faults": _faults(stats, statuses),
    }


# Why a crawl that ran to its end still failed: it never reached the site, or the site
# answered nothing usable. A run with one of these causes is `failed`, never `finished`.
UNREACHABLE = "unreachable"  # connections refused, reset or timed out, no answer at all
DNS = "dns"                  # the site's name did not resolve
TLS = "tls"                  # the TLS handshake failed
BLOCKED = "blocked"          # every answer was 401/403/429
SERVER_ERRORS = "server_errors"  # every answer was a 5xx
ROBOTS = "robots"            # robots.txt forbade every page the crawl asked for
REACH_CAUSES = (UNREACHABLE, DNS, TLS, BLOCKED, SERVER_ERRORS, ROBOTS)
_CAUSE_TEXT = {
    UNREACHABLE: "the site could not be reached (connections refused, reset or timed out)",
    DNS: "the site's name did not resolve (DNS)",
    TLS: "the TLS handshake with the site failed",
    BLOCKED: "the site refused every request (401/403/429)",
    SERVER_ERRORS: "the site answered every request with a server error (5xx)",
    ROBOTS: "robots.txt forbade every page",
}


def reach_failure(stats: Mapping[str, Any]) -> tuple[str, str] | None:
    """(cause, message) when a crawl never got a usable page from the site, else None.

    Pages are the site's answers other than robots.txt; a crawl with at least one answer that
    is neither a refusal nor a server error reached the site, whatever it then found."""
    def count(key: str) -> int:
        value = stats.get(key, 0)
        return int(value) if isinstance(value, (int, float)) else 0

    robots = count("robotstxt/response_count")
    pages = max(0, count("downloader/response_count") - robots)
    statuses = {key.rsplit("/", 1)[1]: int(value) for key, value in stats.items()
                if key.startswith("downloader/response_status_count/") and isinstance(value, (int, float))}
    for key, value in stats.items():  # robots.txt's own answers are not the site's pages
        if key.startswith("robotstxt/response_status_count/") and isinstance(value, (int, float)):
            code = key.rsplit("/", 1)[1]
            statuses[code] = max(0, statuses.get(code, 0) - int(value))
    requested = count("downloader/request_count") - count("robotstxt/request_count")
    if pages > 0:
        refused = sum(n for code, n in statuses.items() if code in ("401", "403", "429"))
        errors = sum(n for code, n in statuses.items() if code.startswith("5"))
        if refused == pages:
            return BLOCKED, f"{_CAUSE_TEXT[BLOCKED]}: {pages} answers"
        if errors == pages:
            return SERVER_ERRORS, f"{_CAUSE_TEXT[SERVER_ERRORS]}: {pages} answers"
        if refused + errors == pages:
            return BLOCKED if refused >= errors else SERVER_ERRORS, (
                f"the site answered no request with a page: {refused} refused, {errors} server errors")
        return _articles_failed(stats, count)
    if count("robotstxt/forbidden") > 0 and requested <= 0:
        return ROBOTS, f"{_CAUSE_TEXT[ROBOTS]} ({count('robotstxt/forbidden')} requests)"
    # a run document's stats keep dotted names escaped (_escape_key): the message names the class
    exceptions = {key.removeprefix("downloader/exception_type_count/").replace("\uff0e", "."): int(value)
                  for key, value in stats.items()
                  if key.startswith("downloader/exception_type_count/") and isinstance(value, (int, float))}
    failed = sum(exceptions.values())
    if count("robotstxt/forbidden") > 0 and failed == 0:
        return ROBOTS, f"{_CAUSE_TEXT[ROBOTS]} ({count('robotstxt/forbidden')} requests)"
    if failed == 0 and requested <= 0:
        return None  # nothing was asked of the site (an empty crawl): not the site's failure
    names = " ".join(exceptions)
    if "DNSLookupError" in names:
        cause = DNS
    elif any(word in names for word in ("SSL", "TLS", "OpenSSL", "Certificate")):
        cause = TLS
    else:
        cause = UNREACHABLE
    kinds = ", ".join(f"{name.rsplit('.', 1)[-1]} x{n}" for name, n in sorted(exceptions.items(), key=lambda kv: -kv[1])[:3])
    return cause, f"{_CAUSE_TEXT[cause]}: no page fetched" + (f" ({kinds})" if kinds else "")


def _site_answered(cause: str) -> bool:
    """A failure cause (crawler.spiders.outlet.failure_cause) in which the site answered."""
    if cause.startswith("http_"):
        return not (cause.startswith("http_5") or cause in ("http_401", "http_403", "http_429"))
    return cause in ("ignored", "oversized", "redirect_loop")


def _articles_failed(stats: Mapping[str, Any], count: Any) -> tuple[str, str] | None:
    """The lists and feeds answered, but every article page the crawl asked for failed (no
    article parsed): the site's article pages are down or refused, which no extraction or
    template change explains."""
    failed = count("newsdesk/failed_articles")
    if not failed or count("newsdesk/articles_parsed") or count("item_scraped_count"):
        return None
    causes = {key.removeprefix("newsdesk/failed/"): int(value) for key, value in stats.items()
              if key.startswith("newsdesk/failed/") and isinstance(value, (int, float))}
    # A page the site answered for itself (404 gone, 400, a redirect loop, too large) means the
    # site is up: only answers that say it is down, refusing or forbidding count here.
    if any(n for name, n in causes.items() if _site_answered(name)):
        return None
    server = sum(n for name, n in causes.items() if name.startswith("http_5"))
    refused = sum(n for name, n in causes.items() if name in ("http_401", "http_403", "http_429"))
    if causes.get("robots", 0) >= failed:
        return ROBOTS, f"robots.txt forbade every article page ({failed})"
    if server and server >= refused:
        return SERVER_ERRORS, f"every article page failed ({failed}), {server} of the failures server errors (5xx)"
    if refused:
        return BLOCKED, f"every article page failed ({failed}), {refused} of the failures refusals (401/403/429)"
    return UNREACHABLE, f"every article page failed ({failed}): " + (
        ", ".join(f"{name} x{n}" for name, n in sorted(causes.items(), key=lambda kv: -kv[1])[:3]) or "no answer")


def _faults(stats: Mapping[str, Any], statuses: Mapping[str, int]) -> dict[str, int]:
    """What the sites did wrong in this run, by kind (only the kinds seen): answers (5xx, 429),
    network failures by exception type, bad pages (newsdesk/faults/*, counted by
    crawler.crawl.middlewares.FaultStatsMiddleware), requests that produced no page by cause
    (newsdesk/failed/*), pages robots.txt forbade, and retries that gave up."""

    def total(prefix: str, contains: tuple[str, ...] = ()) -> int:
        return sum(
            int(value) for key, value in stats.items()
            if key.startswith(prefix) and isinstance(value, (int, float)) and (not contains or any(c in key for c in contains))
        )

    exceptions = "downloader/exception_type_count/"
    faults = {
        "http_5xx": sum(count for status, count in statuses.items() if status.startswith("5")),
        "http_429": int(statuses.get("429", 0)),
        "timeouts": total(exceptions, ("Timeout",)),
        "connection_errors": total(exceptions, ("ConnectionLost", "ResponseFailed", "ConnectionRefused", "ConnectError",
                                                "ConnectionDone", "ResponseNeverReceived", "DataLoss",
                                                "DownloadFailed", "ConnectionReset")),
        "robots_forbidden": int(stats.get("robotstxt/forbidden", 0)),
        "retries_gave_up": int(stats.get("retry/max_reached", 0)),
    }
    for key, value in stats.items():
        if isinstance(value, (int, float)) and key.startswith(("newsdesk/faults/", "newsdesk/failed/")):
            name = key.removeprefix("newsdesk/faults/") if key.startswith("newsdesk/faults/") else "failed_" + key.removeprefix("newsdesk/failed/")
            faults[name] = faults.get(name, 0) + int(value)
    return {name: count for name, count in faults.items() if count}


class RunStore:
    """Open, fill, close and query crawl runs."""

    def __init__(self, db: Database[Any]) -> None:
        self.collection: Collection[Any] = db[RUNS]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("outlet", 1), ("started", DESCENDING)])
        self.collection.create_index([("started", DESCENDING)])
        self.collection.create_index([("status", 1), ("outlet", 1)])

    def open(
        self,
        outlet: str,
        trigger: str,
        *,
        owner: str,
        log_path: str | None = None,
        dispatcher: str = "local",
        status: str = RUNNING,
        note: str | None = None,
    ) -> str:
        """Insert a run document and return its id."""
        run_id = f"{outlet}-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        now = utcnow()
        doc: dict[str, Any] = {
            "_id": run_id,
            "outlet": outlet,
            "trigger": trigger,
            "owner": owner,
            "dispatcher": dispatcher,
            "status": status,
            "started": now,
            "log_path": log_path,
        }
        if status != RUNNING:
            doc.update(ended=now, duration_s=0.0)
        if note:
            doc["note"] = note
        self.collection.insert_one(doc)
        return run_id

    def record_stats(self, run_id: str, stats: Mapping[str, Any]) -> bool:
        """Store a crawl's stats and their summary on its run (called by the crawl process)."""
        update = {"stats": _plain(stats), **summarize(stats), "stats_recorded": utcnow()}
        return self.collection.update_one({"_id": run_id}, {"$set": update}).matched_count == 1

    def add_worker_stats(self, run_id: str, worker: str, stats: Mapping[str, Any]) -> bool:
        """Add one distributed worker's share of a round to its run: counts summed, stats kept per worker."""
        summary = summarize(stats)
        increments: dict[str, int] = {"pages": summary["pages"], "items": summary["items"]}
        for group in ("articles", "dropped", "errors", "http_status"):
            for name, value in summary[group].items():
                increments[f"{group}.{name}"] = value
        increments = {key: value for key, value in increments.items() if value}
        update: dict[str, Any] = {"$push": {"workers": {"worker": worker, "stats": _plain(stats), "at": utcnow()}}}
        if increments:
            update["$inc"] = increments
        return self.collection.update_one({"_id": run_id}, update).matched_count == 1

    def close(
        self,
        run_id: str,
        *,
        returncode: int | None,
        timed_out: bool = False,
        lease_lost: bool = False,
        stats: Mapping[str, Any] | None = None,
        error: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Close a run with how its process ended; returns the closed document."""
        run = self.collection.find_one({"_id": run_id})
        if run is None:
            return None
        now = utcnow()
        update: dict[str, Any] = {"ended": now, "duration_s": round((now - run["started"]).total_seconds(), 3)}
        update["returncode"] = returncode
        if stats and run.get("dispatcher") == "redis":
            # workers add their own counts to the run ($inc); only the round's outcome is ours
            update["finish_reason"] = stats.get("finish_reason")
            update["seeded"] = stats.get("newsdesk/distributed/seeded", 0)
        elif stats and "stats" not in run:  # the crawl could not record them itself
            update.update({"stats": _plain(stats), **summarize(stats)})
        finish_reason = update.get("finish_reason", run.get("finish_reason"))
        if timed_out:
            status = TIMEOUT
        elif lease_lost:
            status = LEASE_LOST
        elif returncode == 0 and finish_reason == "finished" and (reach := self._reach_failure(run, stats)):
            status = FAILED
            update["cause"], error = reach[0], error or reach[1]
        elif returncode == 0 and finish_reason == "finished":
            status = FINISHED
        else:
            status = FAILED
            if error is None:
                if returncode not in (0, None):
                    error = f"crawl process exited with code {returncode}"
                elif finish_reason is None:
                    error = "crawl recorded no stats"
                else:
                    error = f"crawl closed with reason {finish_reason!r}"
        update["status"] = status
        if error:
            update["error"] = error
        if extra:
            update.update(_plain(extra))
        self.collection.update_one({"_id": run_id}, {"$set": update})
        run.update(update)
        return run

    @staticmethod
    def _reach_failure(run: Mapping[str, Any], stats: Mapping[str, Any] | None) -> tuple[str, str] | None:
        """reach_failure() of the crawl's own stats (given, or recorded on the run). A Redis
        round's workers record only their sums: judged on the round's pages and faults."""
        if run.get("dispatcher") == "redis":
            total: dict[str, float] = {}
            for worker in run.get("workers") or []:
                for key, value in (worker.get("stats") or {}).items():
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        total[key] = total.get(key, 0) + value
            return reach_failure(total) if total else None
        raw = stats or run.get("stats")
        return reach_failure(raw) if raw else None

    def set_checks(self, run_id: str, checks: Mapping[str, Any]) -> bool:
        """Store the summary of the run's per-run checks (crawler.monitoring) on it as `checks`."""
        return self.collection.update_one({"_id": run_id}, {"$set": {"checks": dict(checks)}}).matched_count == 1

    def abandon_open_runs(self, outlet: str, owner: str) -> int:
        """Close the runs a dead owner left open for `outlet` (its lease was taken over)."""
        now = utcnow()
        result = self.collection.update_many(
            {"outlet": outlet, "owner": owner, "status": RUNNING},
            {"$set": {"status": ABANDONED, "ended": now, "error": f"owner {owner} stopped renewing its lease"}},
        )
        return result.modified_count

    def get(self, run_id: str) -> dict[str, Any] | None:
        return self.collection.find_one({"_id": run_id})

    def find(
        self,
        *,
        outlet: str | None = None,
        failed: bool = False,
        since: datetime | None = None,
        limit: int = 50,
        with_stats: bool = False,
    ) -> list[dict[str, Any]]:
        """Newest runs first; `failed` keeps the runs that did not finish cleanly."""
        query: dict[str, Any] = {}
        if outlet:
            query["outlet"] = outlet
        if since is not None:
            query["started"] = {"$gte": since}
        if failed:
            query["status"] = {"$nin": [FINISHED, RUNNING]}
        projection = None if with_stats else {"stats": 0}
        cursor = self.collection.find(query, projection).sort("started", DESCENDING).limit(limit)
        return list(cursor)

    def last_per_outlet(
        self,
        outlets: Iterable[str],
        *,
        floor: datetime | None = None,
        ceiling: datetime | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Each outlet's newest run started in [floor, ceiling), for outlets that have one,
        without its raw stats. No floor looks back as far as runs go; no ceiling includes
        runs started up to now and any a skewed clock dated later.

        Reads backwards in slices of `started` that double in width (a day first), one query
        per slice for all the outlets still missing (outlet $in, started range), so a handful
        of bounded queries cover months whatever the number of outlets, and each reads only
        the runs of outlets not found yet. (SecantusDB answers a sort + limit without a range
        by scanning the outlet's runs, which grow with every crawl.)
        """
        missing = list(dict.fromkeys(outlets))
        found: dict[str, dict[str, Any]] = {}
        anchor = ceiling or utcnow()
        floor = floor if floor is not None else anchor - FAR_BACK
        high, window = ceiling, FIRST_SLICE
        while missing and (high is None or high > floor):
            low = max(floor, (high or anchor) - window)
            started: dict[str, Any] = {"$gte": low} if high is None else {"$gte": low, "$lt": high}
            for run in self.collection.find({"outlet": {"$in": missing}, "started": started}, WITHOUT_STATS):
                best = found.get(run["outlet"])
                if best is None or run["started"] > best["started"]:
                    found[run["outlet"]] = run
            missing = [o for o in missing if o not in found]
            high, window = low, window * 2
        return found

    def last_with_new_articles(self, outlet: str, *, before: datetime,
                               skip_triggers: tuple[str, ...] = ()) -> dict[str, Any] | None:
        """The outlet's newest run started before `before` that stored a new article (its
        `started` and `ended` only), or None; runs of `skip_triggers` are passed over. Looks
        back in slices of `started` that double in width, each an (outlet, started) range,
        newest slice first."""
        high, window = before, FIRST_SLICE
        floor = before - FAR_BACK
        while high > floor:
            low = max(floor, high - window)
            run = self.collection.find_one(
                {"outlet": outlet, "started": {"$gte": low, "$lt": high}, "articles.new": {"$gt": 0},
                 **({"trigger": {"$nin": list(skip_triggers)}} if skip_triggers else {})},
                {"ended": 1, "started": 1},
                sort=[("started", DESCENDING)],
            )
            if run is not None:
                return run
            high, window = low, window * 2
        return None

    def recent(self, since: datetime) -> list[dict[str, Any]]:
        """Every run started since `since`, newest first, without raw stats (a short window:
        the last day of all outlets for health)."""
        runs = self.collection.find({"started": {"$gte": since}}, WITHOUT_STATS)
        return sorted(runs, key=lambda d: d["started"], reverse=True)

    def page(
        self,
        *,
        since: datetime,
        until: datetime,
        outlet: str | None = None,
        failed: bool = False,
        limit: int,
        cursor: Cursor | None = None,
    ) -> tuple[list[dict[str, Any]], Cursor | None]:
        """A page of the newest runs started in [since, until), without their raw Scrapy stats,
        and the cursor of the next page (crawler.store.keyset); `failed` keeps FAILED_STATUSES."""
        query: dict[str, Any] = {}
        if outlet:
            query["outlet"] = outlet
        if failed:
            query["status"] = {"$in": list(FAILED_STATUSES)}
        return newest(self.collection, "started", floor=since, ceiling=until, limit=limit, query=query,
                      projection={"stats": 0}, cursor=cursor)

    def iter_since(self, since: datetime, *, outlet: str | None = None,
                   skip_triggers: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
        """Runs started since `since`, oldest first, without the raw stats; runs of
        `skip_triggers` left out."""
        query: dict[str, Any] = {"started": {"$gte": since}}
        if outlet:
            query["outlet"] = outlet
        if skip_triggers:
            query["trigger"] = {"$nin": list(skip_triggers)}
        return iter(self.collection.find(query, {"stats": 0}).sort("started", 1))

    def purge(self, keep_days: float) -> int:
        """Delete runs older than `keep_days` (0 or less keeps everything)."""
        if keep_days <= 0:
            return 0
        cutoff = utcnow() - timedelta(days=keep_days)
        return self.collection.delete_many({"started": {"$lt": cutoff}, "status": {"$ne": RUNNING}}).deleted_count
