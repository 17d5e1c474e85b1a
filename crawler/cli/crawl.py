"""Crawling commands: `newsdesk crawl`, `run` (the scheduler), `worker` (Redis) and `demo`."""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from crawler.cli.common import check_db, check_outlets, checked_base_url, checked_db_name, kst_fields, print_article, fail, out

# Each command imports its machinery when it runs (Scrapy and Twisted, the runners, the store,
# the scheduler, the outlet registry, the saved sites' HTTP server): `newsdesk --help` and
# argument errors must not pay for it.

app = typer.Typer()


def _print_summary(outcomes: list[Any], log_file: Path | None) -> int:
    from crawler.crawl.extensions.progress import summarize
    from crawler.store.runs import reach_failure

    table = Table(title="crawl summary")
    for column in ("outlet", "pages", "new", "updated", "unchanged", "dropped (reason: n)", "errors", "finish"):
        table.add_column(column)
    failed = 0
    for outcome in outcomes:
        s = summarize(outcome.stats)
        dropped = ", ".join(f"{k}: {v}" for k, v in sorted(s["dropped"].items())) or "0"
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(s["errors"].items())) or "0"
        finish = str(s["finish_reason"])
        unreached = reach_failure(outcome.stats) if finish == "finished" else None
        if unreached is not None:  # ran to its end without a page from the site: the run is failed too
            finish = f"[bold red]failed: {unreached[0]}[/]"
        if s["finish_reason"] != "finished" or unreached is not None:
            failed += 1
        table.add_row(
            outcome.outlet, str(s["pages_fetched"]), str(s["new"]), str(s["updated"]),
            str(s["unchanged"]), dropped, errors, finish,
        )
    out.print()
    out.print(table)
    for outcome in outcomes:
        reason = str(outcome.stats.get("finish_reason", ""))
        if reason.startswith("skipped"):
            out.print(f"{outcome.outlet}: {reason}", highlight=False, soft_wrap=True)
        elif reason == "finished" and (unreached := reach_failure(outcome.stats)) is not None:
            out.print(f"{outcome.outlet}: {unreached[1]}", highlight=False, soft_wrap=True)
    if log_file is not None:
        out.print(f"log: {log_file}")
    return failed

def _log_file(kind: str) -> Path:
    from crawler.runners.logs import logs_dir

    # the pid keeps apart the logs of processes started in the same second (several workers)
    return logs_dir() / f"{kind}-{datetime.now().strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"

@app.command()
def crawl(
    outlets: list[str] = typer.Argument(..., help="Outlet ids (see crawler/outlets/outlets.toml)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Fetch from this host instead (a local copy of the site)."),
    max_articles: Optional[int] = typer.Option(None, "--max-articles", min=0, help="Stop after requesting this many articles per outlet."),
) -> None:
    """Crawl outlets now, with a live progress table and a summary at the end."""
    check_outlets(outlets)
    if base_url is not None:
        base_url = checked_base_url(base_url)
    from crawler.crawl.process import crawl_outlets

    check_db()
    log_file = _log_file("crawl")
    outcomes = crawl_outlets(
        outlets,
        base_urls={name: base_url for name in outlets} if base_url else None,
        max_articles=max_articles,
        settings_overrides={"NEWSDESK_PROGRESS": sys.stderr.isatty() or os.environ.get("NEWSDESK_PROGRESS") == "1"},
        log_file=log_file,
        stats_dir=log_file.parent,
    )
    if _print_summary(outcomes, log_file):
        raise typer.Exit(1)

@app.command()
def run(
    outlets: Optional[list[str]] = typer.Argument(None, help="Only these outlets (default: all)."),
    time_limit: Optional[int] = typer.Option(None, "--time-limit", min=10, help="Seconds a crawl may run before it is stopped (default: NEWSDESK_CRAWL_TIME_LIMIT)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Crawl this host instead of the real sites (a local copy, staging)."),
    scrapyd: Optional[str] = typer.Option(None, "--scrapyd", help="Dispatch crawls to this scrapyd (default: NEWSDESK_SCRAPYD_URL; empty = local subprocesses)."),
) -> None:
    """Start the scheduler: every outlet crawled on its schedule, each crawl in a subprocess.

    Schedules, operators' changes and run history are kept in the database; a second
    scheduler on the same database never crawls an outlet that is already crawling.
    Ctrl-C or SIGTERM stops scheduling and stops running crawls cleanly.
    """
    from crawler.config import project_settings
    from crawler.outlets import registry
    from crawler.scheduling.scheduler import NewsdeskScheduler, run_forever
    from crawler.store import database_name, get_client, mask_uri

    names = check_outlets(outlets) if outlets else list(registry())
    if base_url is not None:
        base_url = checked_base_url(base_url)
    settings = project_settings()
    limit = float(time_limit or settings.getint("NEWSDESK_CRAWL_TIME_LIMIT"))
    extra = ["-a", f"base_url={base_url}"] if base_url else None
    scrapyd_url = settings.get("NEWSDESK_SCRAPYD_URL", "") if scrapyd is None else scrapyd
    try:  # before the database: a bad URL is found in a moment
        dispatcher = _dispatcher(scrapyd_url, settings, limit, extra, base_url)
    except ValueError as exc:  # a scrapyd URL that is not http(s)://host:port/
        fail(f"{'--scrapyd' if scrapyd is not None else 'NEWSDESK_SCRAPYD_URL'}: {exc}")
        raise AssertionError("unreachable") from exc
    uri = check_db()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    client = get_client(uri)
    scheduler = NewsdeskScheduler(
        [registry()[n] for n in names],
        dispatcher,
        uri=uri,
        db_name=database_name(),
        db=client[database_name()],
        max_concurrent_crawls=settings.getint("NEWSDESK_MAX_CONCURRENT_CRAWLS"),
        sync_seconds=settings.getfloat("NEWSDESK_SCHEDULE_SYNC_SECONDS"),
        lease_ttl=timedelta(seconds=settings.getfloat("NEWSDESK_LEASE_TTL_SECONDS")),
        runs_keep_days=settings.getfloat("NEWSDESK_RUNS_KEEP_DAYS"),
        search_index_seconds=settings.getfloat("NEWSDESK_SEARCH_INDEX_SECONDS", 300.0),
    )
    where = {"scrapyd": f"scrapyd {mask_uri(scrapyd_url)}", "redis": f"Redis {mask_uri(settings.get('REDIS_URL', ''))} (run `newsdesk worker`)"}.get(
        dispatcher.dispatcher, "local subprocesses")
    out.print(
        f"newsdesk scheduler {scheduler.owner}: {len(names)} outlet(s), database {mask_uri(uri)}, "
        f"crawls in {where}; Ctrl-C to stop"
    )
    try:
        run_forever(scheduler, dispatcher.stop_all)
    finally:
        client.close()
    out.print("stopped")

def _dispatcher(scrapyd_url: str, settings: Any, time_limit: float, extra: list[str] | None, base_url: str | None) -> Any:
    """Where crawls run: local subprocesses, a scrapyd when a URL is configured, or Redis
    workers in distributed mode."""
    from crawler.runners.local import CrawlRunner

    if settings.getbool("NEWSDESK_DISTRIBUTED") and not scrapyd_url:
        from crawler.runners.redis import RedisDispatcher

        return RedisDispatcher(settings, time_limit=time_limit, spider_args={"base_url": base_url} if base_url else {},
                               server=_check_redis(settings))
    if not scrapyd_url:
        return CrawlRunner(time_limit=time_limit, extra_args=extra)
    from crawler.runners.scrapyd import ScrapydDispatcher

    return ScrapydDispatcher(
        scrapyd_url,
        project=settings.get("NEWSDESK_SCRAPYD_PROJECT", "newsdesk"),
        time_limit=time_limit,
        spider_args={"base_url": base_url} if base_url else {},
    )

def _check_redis(settings: Any) -> Any:
    """A connected Redis client for distributed mode, or a one-line error naming the URL."""
    from crawler.distributed.seed import redis_client
    from crawler.store import mask_uri

    url = settings.get("REDIS_URL", "")
    try:
        server = redis_client(settings)
        server.ping()
    except Exception as exc:  # noqa: BLE001 - any failure here is reported in one line
        fail(f"Redis at {mask_uri(url)} does not answer: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    return server

@app.command()
def worker(
    outlets: Optional[list[str]] = typer.Argument(None, help="Take requests of these outlets (default: all)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="The host the scheduler was told to crawl instead (a local copy)."),
    max_idle: Optional[float] = typer.Option(None, "--max-idle", min=1, help="Exit after this many seconds with nothing to do (default: NEWSDESK_WORKER_MAX_IDLE_SECONDS)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", "-s", help="A Scrapy setting NAME=VALUE for this worker (repeatable), e.g. -s CONCURRENT_REQUESTS=32."),
) -> None:
    """Distributed mode: take requests from Redis, run the pipelines, exit when idle.

    Start any number, on any machines sharing Redis (REDIS_URL) and MongoDB (MONGO_URI);
    `newsdesk run` in distributed mode seeds each outlet's rounds for them.
    """
    from crawler.config import project_settings
    from crawler.crawl.process import crawl_outlets
    from crawler.outlets import registry

    names = check_outlets(outlets) if outlets else list(registry())
    if base_url is not None:
        base_url = checked_base_url(base_url)
    settings = project_settings()
    if not settings.getbool("NEWSDESK_DISTRIBUTED"):
        fail("newsdesk worker needs distributed mode: set REDIS_URL (or NEWSDESK_ENV=distributed)")
    _check_redis(settings)
    check_db()
    overrides: dict[str, Any] = {"NEWSDESK_PROGRESS": False}
    for item in set_ or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not name.strip().isupper():
            fail(f"--set {item!r}: expected NAME=VALUE with an upper-case setting name, like CONCURRENT_REQUESTS=32")
        overrides[name.strip()] = value
    if max_idle is not None:
        overrides["NEWSDESK_WORKER_MAX_IDLE_SECONDS"] = max_idle
    log_file = _log_file("worker")
    out.print(f"worker for {len(names)} outlet(s); log {log_file}")
    outcomes = crawl_outlets(
        names,
        base_urls={name: base_url for name in names} if base_url else None,
        settings_overrides=overrides,
        log_file=log_file,
        record_runs=False,  # the round's run belongs to the scheduler; workers add their stats to it
    )
    if _print_summary(outcomes, log_file):
        raise typer.Exit(1)

@app.command()
def demo(
    db_name: str = typer.Option("newsdesk_demo", "--db", help="Database to fill (kept apart from real crawls)."),
) -> None:
    """Crawl the bundled offline copy of the outlets' sites into the embedded database."""
    from crawler.crawl.process import crawl_outlets
    from crawler.devtools.fixturesite import FixtureSite, find_sites
    from crawler.outlets import registry
    from crawler.store import ArticleStore, database_name, get_client, mask_uri

    os.environ["NEWSDESK_DB"] = checked_db_name(db_name, "--db")
    sites = [s for s in find_sites() if s.outlet in registry()]
    if not sites:
        fail("no bundled sites found under tests/fixtures/*/site.json")
    uri = check_db()
    servers = [FixtureSite(site).start() for site in sites]
    try:
        for server in servers:
            out.print(f"serving the saved {server.site.outlet} site at {server.base_url}")
        log_file = _log_file("demo")
        outcomes = crawl_outlets(
            [s.site.outlet for s in servers],
            base_urls={s.site.outlet: s.base_url for s in servers},
            settings_overrides={
                "NEWSDESK_PROGRESS": True,
                "AUTOTHROTTLE_ENABLED": False,
                "DOWNLOAD_DELAY": 0,
            },
            log_file=log_file,
        )
    finally:
        for server in servers:
            server.stop()
    failed = _print_summary(outcomes, log_file)
    missing = sum(o.stats.get("downloader/response_status_count/404", 0) for o in outcomes)
    if missing:
        out.print(
            f"({missing} of the http errors are 404s: links on the saved list pages to articles the offline "
            "copy does not include, as a live site's would be fetched)",
            highlight=False,
        )
    client = get_client(uri)
    store = ArticleStore(client[database_name()])
    shown = store.latest(None, limit=2, since=datetime.now(timezone.utc) - timedelta(hours=1), by="first_seen")
    for doc in shown:
        print_article(kst_fields(doc))
    total = store.count()
    client.close()
    out.print(
        f"\n[bold]{total} articles[/] in database [cyan]{database_name()}[/] at {mask_uri(uri)}\n"
        f"Look further:\n"
        f"  NEWSDESK_DB={db_name} .venv/bin/newsdesk articles --limit 20\n"
        f"  .venv/bin/newsdesk extract tests/fixtures/joongdo/seed_20190823.html \\\n"
        f"      --url 'https://www.joongdo.co.kr/web/view.php?key=20190823010011746'\n"
        f"  pymongo / Compass: {mask_uri(uri)} database {db_name}, collection articles\n"
        f"  .venv/bin/newsdesk db stop   (stops the embedded database)",
        highlight=False,
    )
    if failed:
        raise typer.Exit(1)
