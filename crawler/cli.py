"""The `newsdesk` command: extract, crawl, run, demo, and a look at the stored articles.

Bad input (unknown outlet, unreadable file, unknown domain, bad URI) is a one-line error and
exit code 2, never a traceback: the people typing these commands are operators and outlet
developers, and the message must say what was wrong and what was expected.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from crawler.jsonutil import dumps, dumps_line

app = typer.Typer(
    help="newsdesk: scheduled crawling of Korean regional news into MongoDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The embedded database (SecantusDB) used when MONGO_URI is unset.", no_args_is_help=True)
app.add_typer(db_app, name="db")
deadletter_app = typer.Typer(help="Articles the database refused, kept on disk until replayed.", no_args_is_help=True)
app.add_typer(deadletter_app, name="deadletter")

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error and exit (2 = bad input, by convention of this CLI)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


FIELD_ORDER = (
    "outlet", "url", "canonical_url", "title", "subtitle", "sections", "published", "modified",
    "print_edition", "authors", "region", "wire", "body", "images", "provenance", "content_hash",
    "first_seen", "last_seen",
)


def ordered(doc: dict[str, Any]) -> dict[str, Any]:
    """The article's fields in reading order (dataclass order is constrained by defaults)."""
    doc = {k: v for k, v in doc.items() if k != "_id" and (k != "extra" or v)}
    first = {k: doc[k] for k in FIELD_ORDER if k in doc}
    return {**first, **{k: v for k, v in doc.items() if k not in first}}


def to_json(obj: Any) -> str:
    return dumps(obj, indent=2)


# ---------------------------------------------------------------------------------------
@app.command()
def extract(
    file: Path = typer.Argument(..., help="Saved HTML page of an article."),
    url: str = typer.Option(..., "--url", help="The page's real URL; its domain picks the outlet."),
) -> None:
    """Print the article extracted from a saved page as JSON (the outlet developer's tool).

    A domain no outlet spec knows is extracted generically (JSON-LD, meta tags, trafilatura);
    `provenance` in the output says which method gave each field.
    """
    from itemadapter import ItemAdapter

    from crawler.outlets import OutletError, outlet_for_url
    from crawler.pages.generic import GenericArticlePage
    from pipelines.normalize import NormalizePipeline
    from pipelines.validate import ArticleDropped, ValidatePipeline

    if not url.startswith(("http://", "https://")):
        fail(f"--url {url!r}: expected the page's absolute http(s) URL")
    try:
        from urllib.parse import urlsplit

        if not urlsplit(url).hostname or urlsplit(url).port == -1:
            raise ValueError("no host")
    except ValueError as exc:
        fail(f"--url {url!r}: not a valid URL ({exc})")
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    try:
        spec = outlet_for_url(url)
        page: Any = spec.page_class()(url=url, html=data, outlet=spec)
    except OutletError as exc:
        err.print(f"note: {exc}; using generic extraction", highlight=False, soft_wrap=True)
        page = GenericArticlePage(url, data)
    except ValueError as exc:  # a URL urllib cannot take apart (bad port, broken IPv6 host)
        fail(f"--url {url!r}: {exc}")
    try:
        article = NormalizePipeline().process_item(page.to_article())
    except ArticleDropped as exc:
        fail(f"cannot extract {file}: {exc}", code=1)
    except Exception as exc:  # noqa: BLE001 - a page that breaks the parser: one line, not a traceback
        fail(f"cannot extract {file}: {type(exc).__name__}: {exc}", code=1)
    out.print(to_json(ordered(ItemAdapter(article).asdict())), highlight=False, soft_wrap=True)
    try:
        ValidatePipeline().process_item(article)
    except ArticleDropped as exc:
        err.print(f"warning: a crawl would drop this page ({exc})", highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------------------------
@app.command()
def outlets(
    as_json: bool = typer.Option(False, "--json", help="JSON for machines instead of a table."),
) -> None:
    """List the outlets newsdesk knows, with their entry points and last crawl status."""
    from crawler.outlets import OutletError, registry
    from crawler.progress import summarize
    from crawler.runstats import latest_stats
    from crawler.scheduling.paths import logs_dir

    try:
        specs = registry()
    except OutletError as exc:
        fail(str(exc))
    rows = []
    for spec in specs.values():
        stats = latest_stats(spec.name, logs_dir())
        last = None
        if stats:
            s = summarize(stats)
            last = {
                "finished": stats.get("finish_time"),
                "finish_reason": s["finish_reason"],
                "pages": s["pages_fetched"],
                "new": s["new"],
                "updated": s["updated"],
                "dropped": sum(s["dropped"].values()),
                "errors": sum(s["errors"].values()),
                "fallback_articles": stats.get("newsdesk/fallback/articles", 0),
            }
        rows.append({
            "name": spec.name,
            "name_ko": spec.name_ko,
            "region": spec.region,
            "family": spec.family,
            "domains": list(spec.domains),
            "encoding": spec.encoding,
            "every_minutes": spec.every_minutes,
            "rss_urls": list(spec.rss_urls),
            "list_urls": list(spec.list_urls),
            "sitemap_urls": list(spec.sitemap_urls),
            "last_crawl": last,
        })
    if as_json:
        sys.stdout.write(dumps(rows, indent=2) + "\n")
        return
    table = Table(title=f"{len(rows)} outlets")
    for column in ("outlet", "이름", "region", "family", "entry", "every", "last crawl"):
        table.add_column(column, overflow="fold")
    for row in rows:
        entry = "rss" if row["rss_urls"] else "list"
        if row["sitemap_urls"]:
            entry += "+sitemap"
        last = row["last_crawl"]
        status = "never" if last is None else (
            f"{str(last['finished'])[:16]} {last['finish_reason']}: {last['new']} new, {last['errors']} errors"
        )
        table.add_row(row["name"], row["name_ko"], row["region"], row["family"], entry, f"{row['every_minutes']}m", status)
    out.print(table)


# ---------------------------------------------------------------------------------------
@app.command()
def evaluate(
    folder: Path = typer.Argument(..., help="Folder of <name>.html + <name>.json pairs (searched recursively)."),
    output: Path = typer.Option(Path("evaluation.json"), "--output", "-o", help="Where to write the full results as JSON."),
) -> None:
    """Score extraction against hand-checked pages, beside trafilatura alone on the same pages."""
    from crawler.evaluate import FIELDS, evaluate as run_evaluation, to_json as scores_json

    if not folder.is_dir():
        fail(f"{folder} is not a folder")
    try:
        scores = run_evaluation(folder)
    except ValueError as exc:
        fail(str(exc))
    table = Table(title=f"extraction on {scores[0].pages} pages in {folder}")
    table.add_column("metric")
    for s in scores:
        table.add_column(s.system, justify="right")
    for name in FIELDS:
        table.add_row(f"{name} accuracy", *(f"{s.accuracy.get(name, float('nan')):.3f}" for s in scores))
    table.add_row("field accuracy (all)", *(f"{s.field_accuracy:.3f}" for s in scores))
    table.add_row("body precision", *(f"{s.body_precision:.3f}" for s in scores))
    table.add_row("body recall", *(f"{s.body_recall:.3f}" for s in scores))
    table.add_row("body F1", *(f"{s.body_f1:.3f}" for s in scores))
    table.add_row("ms per page", *(f"{s.ms_per_page:.1f}" for s in scores))
    out.print(table)
    misses = [(r.name, r.wrong) for r in scores[0].results if r.wrong]
    for name, wrong in misses:
        out.print(f"[yellow]newsdesk miss[/] {name}: {json.dumps(wrong, ensure_ascii=False)}", highlight=False)
    output.write_text(scores_json(scores), encoding="utf-8")
    out.print(f"results: {output}")


# ---------------------------------------------------------------------------------------
def _print_summary(outcomes: list[Any], log_file: Path | None) -> int:
    from crawler.progress import summarize

    table = Table(title="crawl summary")
    for column in ("outlet", "pages", "new", "updated", "unchanged", "dropped (reason: n)", "errors", "finish"):
        table.add_column(column)
    failed = 0
    for outcome in outcomes:
        s = summarize(outcome.stats)
        dropped = ", ".join(f"{k}: {v}" for k, v in sorted(s["dropped"].items())) or "0"
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(s["errors"].items())) or "0"
        if s["finish_reason"] != "finished":
            failed += 1
        table.add_row(
            outcome.outlet, str(s["pages_fetched"]), str(s["new"]), str(s["updated"]),
            str(s["unchanged"]), dropped, errors, str(s["finish_reason"]),
        )
    out.print()
    out.print(table)
    for outcome in outcomes:
        reason = str(outcome.stats.get("finish_reason", ""))
        if reason.startswith("skipped"):
            out.print(f"{outcome.outlet}: {reason}", highlight=False, soft_wrap=True)
    if log_file is not None:
        out.print(f"log: {log_file}")
    return failed


def _log_file(kind: str) -> Path:
    from crawler.scheduling.paths import logs_dir

    # the pid keeps apart the logs of processes started in the same second (several workers)
    return logs_dir() / f"{kind}-{datetime.now().strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"


def _check_outlets(names: list[str]) -> list[str]:
    from crawler.outlets import OutletError, get_outlet

    for name in names:
        try:
            get_outlet(name)
        except OutletError as exc:
            fail(str(exc))
    return names


def _checked_base_url(base_url: str) -> str:
    from crawler.spiders.base import OutletSpider

    try:
        return OutletSpider.check_base_url(base_url)
    except ValueError as exc:
        fail(f"--base-url: {exc}")
    raise AssertionError("unreachable")


def _check_db(*, start: bool = True) -> str:
    """Resolve (and if needed start) the database before crawling, so errors come early.

    Read-only commands pass start=False: looking at an empty folder must not create one.
    """
    from crawler.store import EmbeddedServerError, data_dir, get_client, mask_uri, resolve_uri

    try:
        uri = resolve_uri(start_embedded=start)
    except EmbeddedServerError as exc:
        if not start:
            fail(f"no embedded database is running for {data_dir()} (newsdesk db start, or set MONGO_URI)")
        fail(f"cannot start the embedded database: {exc}")
    except Exception as exc:  # noqa: BLE001 - any failure here is reported in one line
        fail(f"cannot start or find the database: {exc}")
    if not uri.startswith("mongodb+srv://"):  # an SRV URI is checked by looking it up, below
        from pymongo.uri_parser import parse_uri

        try:
            parse_uri(uri)
        except Exception as exc:  # noqa: BLE001 - InvalidURI, ConfigurationError, ValueError
            fail(f"MONGO_URI {mask_uri(uri)!r} is not a usable MongoDB URI: {_first_line(exc)}")
    try:
        client = get_client(uri, serverSelectionTimeoutMS=5000)
        client.admin.command("ping")
        client.close()
    except Exception as exc:  # noqa: BLE001
        fail(f"database at {mask_uri(uri)} does not answer: {_first_line(exc)}")
    return uri


def _first_line(exc: BaseException) -> str:
    """An exception's message without pymongo's topology dump and timeout settings."""
    text = (str(exc).splitlines() or [type(exc).__name__])[0]
    for tail in (" (configured timeouts", ", Timeout:", ", Topology Description"):
        text = text.split(tail, 1)[0]
    return text.strip() or type(exc).__name__


@app.command()
def crawl(
    outlets: list[str] = typer.Argument(..., help="Outlet ids (see crawler/outlets/outlets.toml)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Fetch from this host instead (a local copy of the site)."),
    max_articles: Optional[int] = typer.Option(None, "--max-articles", min=0, help="Stop after requesting this many articles per outlet."),
) -> None:
    """Crawl outlets now, with a live progress table and a summary at the end."""
    _check_outlets(outlets)
    if base_url is not None:
        base_url = _checked_base_url(base_url)
    from crawler.crawling import crawl_outlets

    _check_db()
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


# ---------------------------------------------------------------------------------------
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
    import logging

    from crawler.crawling import project_settings
    from crawler.outlets import registry
    from crawler.scheduling.scheduler import NewsdeskScheduler, run_forever
    from crawler.store import database_name, get_client, mask_uri

    names = _check_outlets(outlets) if outlets else list(registry())
    if base_url is not None:
        base_url = _checked_base_url(base_url)
    settings = project_settings()
    uri = _check_db()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    limit = float(time_limit or settings.getint("NEWSDESK_CRAWL_TIME_LIMIT"))
    extra = ["-a", f"base_url={base_url}"] if base_url else None
    scrapyd_url = settings.get("NEWSDESK_SCRAPYD_URL", "") if scrapyd is None else scrapyd
    dispatcher = _dispatcher(scrapyd_url, settings, limit, extra, base_url)
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
    from crawler.scheduling.runner import CrawlRunner

    if settings.getbool("NEWSDESK_DISTRIBUTED") and not scrapyd_url:
        from crawler.distributed.dispatch import RedisDispatcher

        return RedisDispatcher(settings, time_limit=time_limit, spider_args={"base_url": base_url} if base_url else {},
                               server=_check_redis(settings))
    if not scrapyd_url:
        return CrawlRunner(time_limit=time_limit, extra_args=extra)
    from crawler.scheduling.remote import ScrapydDispatcher

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
    from crawler.crawling import crawl_outlets, project_settings
    from crawler.outlets import registry

    names = _check_outlets(outlets) if outlets else list(registry())
    if base_url is not None:
        base_url = _checked_base_url(base_url)
    settings = project_settings()
    if not settings.getbool("NEWSDESK_DISTRIBUTED"):
        fail("newsdesk worker needs distributed mode: set REDIS_URL (or NEWSDESK_ENV=distributed)")
    _check_redis(settings)
    _check_db()
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


# ---------------------------------------------------------------------------------------
@app.command()
def demo(
    db_name: str = typer.Option("newsdesk_demo", "--db", help="Database to fill (kept apart from real crawls)."),
) -> None:
    """Crawl the bundled offline copy of the outlets' sites into the embedded database."""
    from crawler.crawling import crawl_outlets
    from crawler.fixturesite import FixtureSite, find_sites
    from crawler.outlets import registry
    from crawler.store import ArticleStore, database_name, get_client, mask_uri

    os.environ["NEWSDESK_DB"] = db_name
    sites = [s for s in find_sites() if s.outlet in registry()]
    if not sites:
        fail("no bundled sites found under tests/fixtures/*/site.json")
    uri = _check_db()
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
        _print_article(_kst(doc))
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


def _print_article(doc: dict[str, Any]) -> None:
    """A stored article as a person reads it: header facts, then the start of the body."""
    from rich.panel import Panel
    from rich.text import Text

    body = doc.get("body") or ""
    text = Text()
    text.append(f"{doc.get('title', '')}\n", style="bold")
    if doc.get("subtitle"):
        text.append(f"{doc['subtitle']}\n", style="italic")
    text.append(
        f"{' > '.join(doc.get('sections') or [])} | published {_kst_time(doc.get('published'))} KST"
        f" | modified {_kst_time(doc.get('modified'))}\n"
        f"authors {', '.join(doc.get('authors') or []) or '-'} | region {doc.get('region') or '-'}"
        f" | images {len(doc.get('images') or [])}\n\n"
    )
    text.append(body[:280] + ("…" if len(body) > 280 else ""))
    out.print(Panel(text, title=doc.get("canonical_url", ""), title_align="left"))


def _kst_time(value: Any) -> str:
    """A stored datetime as people read it here: Korea time, to the minute."""
    from crawler.text.dates import KST

    return value.astimezone(KST).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else "-"


def _kst(doc: dict[str, Any]) -> dict[str, Any]:
    """Stored datetimes are UTC; people read Korea time."""
    from crawler.text.dates import KST

    return {k: (v.astimezone(KST) if isinstance(v, datetime) else v) for k, v in doc.items()}


# ---------------------------------------------------------------------------------------
@app.command()
def articles(
    outlet: Optional[str] = typer.Option(None, "--outlet", help="Only this outlet."),
    days: int = typer.Option(7, "--days", min=1, help="Articles first seen in the last N days."),
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
) -> None:
    """List recently stored articles, newest first."""
    from crawler.store import ArticleStore, database_name, get_client

    if outlet:
        _check_outlets([outlet])
    uri = _check_db(start=False)
    client = get_client(uri)
    docs = ArticleStore(client[database_name()]).latest(
        outlet, limit=limit, since=datetime.now(timezone.utc) - timedelta(days=days), by="first_seen"
    )
    client.close()
    if as_json:
        for doc in docs:
            sys.stdout.write(dumps_line(ordered(_kst(doc))))
        return
    table = Table(title=f"articles in {database_name()} first seen in the last {days} days, newest first")
    for column in ("published (KST)", "outlet", "title", "authors", "url"):
        table.add_column(column, overflow="fold")
    for doc in docs:
        table.add_row(
            _kst_time(doc.get("published")),
            doc.get("outlet", ""), doc.get("title", ""), ", ".join(doc.get("authors") or []), doc.get("canonical_url", ""),
        )
    out.print(table)


# ---------------------------------------------------------------------------------------
@app.command()
def story(
    id_or_url: str = typer.Argument(..., help="A story_id, or the URL (canonical or alias) of any copy."),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
) -> None:
    """Show a story's copies across outlets: outlet, time, URL and how close each is."""
    from crawler.store import ArticleStore, database_name, get_client

    uri = _check_db(start=False)
    client = get_client(uri)
    try:
        store = ArticleStore(client[database_name()])
        story_id = id_or_url
        if id_or_url.startswith(("http://", "https://")):
            from crawler.pages.template import canonical_url_of

            doc = store.find_by_url(id_or_url) or store.find_by_url(canonical_url_of(id_or_url))
            if doc is None:
                fail(f"no stored article at {id_or_url}")
            if not doc.get("story_id"):
                fail(f"{id_or_url} is stored but has no story (its body is too short to compare)")
            story_id = doc["story_id"]
        copies = store.story(story_id)
    finally:
        client.close()
    if not copies:
        fail(f"no story {story_id!r}")
    if as_json:
        sys.stdout.write(dumps({"story_id": story_id, "copies": [_kst(c) for c in copies]}, indent=2) + "\n")
        return
    table = Table(title=f"story {story_id}: {len(copies)} copies")
    for column in ("published (KST)", "outlet", "similarity", "title", "url"):
        table.add_column(column, overflow="fold")
    for copy in copies:
        similarity = copy.get("story_similarity")
        table.add_row(
            _kst_time(copy.get("published") or copy.get("first_seen")),
            copy.get("outlet", ""),
            "first copy" if similarity is None else f"{similarity:.2f}",
            copy.get("title", ""),
            copy.get("canonical_url", ""),
        )
    out.print(table)


# ---------------------------------------------------------------------------------------
@db_app.command("status")
def db_status() -> None:
    """Say which database newsdesk uses and whether the embedded one is running."""
    from crawler.store import EmbeddedServer, data_dir, mask_uri

    if os.environ.get("MONGO_URI"):
        out.print(f"MONGO_URI is set: {mask_uri(os.environ['MONGO_URI'])}")
        return
    state = EmbeddedServer().status(data_dir())
    if state and state.get("running"):
        answering = "answering" if state.get("responding") else "NOT answering"
        out.print(f"embedded SecantusDB running ({answering}): pid {state.get('pid')}, {state.get('uri')}, data {data_dir()}, log {state.get('log')}")
    else:
        out.print(f"embedded SecantusDB not running (data folder {data_dir()})")


@db_app.command("start")
def db_start() -> None:
    """Start the embedded database for this data folder (or say where it already runs)."""
    from crawler.store import data_dir, mask_uri

    if os.environ.get("MONGO_URI"):
        fail("MONGO_URI is set: newsdesk uses that server, not an embedded one")
    uri = _check_db()
    out.print(f"embedded SecantusDB at {mask_uri(uri)}, data {data_dir()}; `newsdesk db stop` stops it")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded database for this data folder."""
    from crawler.store import EmbeddedServer, data_dir

    stopped = EmbeddedServer().stop(data_dir())
    out.print("stopped" if stopped else f"not running (data folder {data_dir()})")


@deadletter_app.command("list")
def deadletter_list() -> None:
    """Show dead-letter files waiting to be replayed."""
    from crawler.store import data_dir
    from crawler.store.deadletter import pending_files

    files = pending_files(data_dir() / "deadletter")
    if not files:
        out.print("no dead letters")
        return
    for path in files:
        lines = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        out.print(f"{path}  ({lines} articles)")


@deadletter_app.command("replay")
def deadletter_replay() -> None:
    """Write dead-lettered articles into the database (idempotent); replayed files move aside."""
    from crawler.store import ArticleStore, data_dir, database_name, get_client
    from crawler.store.deadletter import replay

    uri = _check_db()
    client = get_client(uri)
    try:
        store = ArticleStore(client[database_name()])
        store.ensure_indexes()
        result = replay(data_dir() / "deadletter", store)
    finally:
        client.close()
    out.print(
        f"replayed {result.files} files, {result.articles} articles: {result.new} new, "
        f"{result.updated} updated, {result.unchanged} already stored"
        + (f"; {result.superseded} skipped: fetched again since" if result.superseded else "")
    )
    if result.failed_files:
        fail(f"{result.failed_files} files could not be replayed; they stay in {data_dir() / 'deadletter'}", code=1)


# Command groups kept in their own modules register themselves on `app` when imported.
import crawler.cli_schedule  # noqa: E402,F401  (schedule, runs)
import crawler.cli_analysis  # noqa: E402,F401  (registers search, stats, export)
import crawler.cli_health  # noqa: E402,F401  (health)
import crawler.cli_web  # noqa: E402,F401  (serve)


def main() -> None:
    app()


if __name__ == "__main__":
    # `python -m crawler.cli`: this file runs as __main__, but the command modules registered
    # themselves on crawler.cli's app (a second copy of this module); run that one.
    from crawler.cli import main as _registered_main

    _registered_main()
