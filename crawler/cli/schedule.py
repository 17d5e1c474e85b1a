"""`newsdesk schedule ...` and `newsdesk runs`: steer and inspect the scheduler from anywhere.

These commands only read and write the database (operators' changes, run-now requests, run
history); a `newsdesk run` scheduler on the same database picks changes up at its next sync
(20 s by default), so they work the same on the scheduler's machine or another one. What
`schedule list` shows is crawler.status.outlet_status, the same facts the dashboard shows.
"""

from __future__ import annotations

import getpass
import socket
import sys
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.table import Table

from crawler.cli.common import check_db, check_outlets, kst_time, err, fail, out
from crawler.jsonformat import dumps, dumps_line

if TYPE_CHECKING:
    from crawler.status import Status

# Each command imports the store (pymongo), crawler.status (which brings the scheduling and
# monitoring code) and the outlet registry when it runs: `newsdesk --help` and argument
# errors must not pay for them (crawler.cli.main).

app = typer.Typer()

schedule_app = typer.Typer(
    help="Show and change the crawl schedule (read by a running `newsdesk run` within a minute).",
    no_args_is_help=True,
)
app.add_typer(schedule_app, name="schedule")


def _operator() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _db(*, start: bool) -> tuple[Any, Any]:
    from crawler.store import database_name, get_client

    uri = check_db(start=start)
    client = get_client(uri)
    return client, client[database_name()]


def _warn_if_no_scheduler(db: Any) -> bool:
    """Say so on stderr when no scheduler runs on `db`; whether one does."""
    from crawler.status import live_schedulers

    if not live_schedulers(db):
        err.print(
            "note: no `newsdesk run` scheduler is running on this database; the change applies when one starts",
            highlight=False,
        )
        return False
    return True


def schedule_rows(listing: Status) -> list[dict[str, Any]]:
    """One row per outlet (crawler.status.outlet_status): its schedule and where it came from,
    next and last run, state."""
    rows = []
    for row in listing.outlets:
        run = row.last_run
        rows.append({
            "outlet": row.outlet,
            "schedule": row.schedule,
            "source": row.schedule_source,
            "state": row.state,
            "next_run": row.next_run,
            "run_now_requested": row.run_now_requested,
            "crawling_under": row.crawling_under,
            "last_run": None if run is None else {
                "id": run["_id"], "started": run["started"], "status": run.get("status"),
                "new": (run.get("articles") or {}).get("new"), "trigger": run.get("trigger"),
            },
        })
    return rows


@schedule_app.command("list")
def schedule_list(
    as_json: bool = typer.Option(False, "--json", help="JSON for machines instead of a table."),
) -> None:
    """Every outlet's schedule, state, next run and last run (times in Korea time)."""
    from crawler.status import outlet_status

    client, db = _db(start=False)
    try:
        listing = outlet_status(db)
        database = db.name
    finally:
        client.close()
    rows = schedule_rows(listing)
    if as_json:
        sys.stdout.write(dumps({"database": database, "schedulers": listing.schedulers, "outlets": rows}, indent=2) + "\n")
        return
    running = ", ".join(listing.schedulers) or "none running"
    table = Table(title=f"schedule of database {database} (scheduler: {running})")
    for column in ("outlet", "schedule", "set by", "state", "next run (KST)", "last run (KST)"):
        table.add_column(column, overflow="fold")
    for row in rows:
        last = row["last_run"]
        last_text = "-" if last is None else f"{kst_time(last['started'])} {last['status']} ({last['trigger']})"
        state = row["state"] + (" · run-now requested" if row["run_now_requested"] else "")
        table.add_row(row["outlet"], row["schedule"], row["source"], state, kst_time(row["next_run"]), last_text)
    out.print(table)


def _one_outlet(outlet: str) -> str:
    return check_outlets([outlet])[0]


def _change(outlet: str, apply: Any) -> bool:
    """Record an operator's change for `outlet` (apply(store, by)); say so if no scheduler runs.
    Whether a scheduler runs on the database."""
    from crawler.store import ScheduleStore

    _one_outlet(outlet)
    client, db = _db(start=True)
    try:
        apply(ScheduleStore(db), _operator())
        return _warn_if_no_scheduler(db)
    finally:
        client.close()


@schedule_app.command("pause")
def schedule_pause(outlet: str = typer.Argument(..., help="Outlet id.")) -> None:
    """Stop scheduling an outlet until `schedule resume` (kept across restarts)."""
    _change(outlet, lambda store, by: store.pause(outlet, by=by))
    out.print(f"{outlet}: paused")


@schedule_app.command("resume")
def schedule_resume(outlet: str = typer.Argument(..., help="Outlet id.")) -> None:
    """Schedule a paused outlet again."""
    _change(outlet, lambda store, by: store.resume(outlet, by=by))
    out.print(f"{outlet}: resumed")


@schedule_app.command("set")
def schedule_set(
    outlet: str = typer.Argument(..., help="Outlet id."),
    every: Optional[str] = typer.Option(None, "--every", help="Interval: 30m, 2h, 1d (at least 1m)."),
    cron: Optional[str] = typer.Option(None, "--cron", help='Crontab in Korea time, e.g. "*/20 6-23 * * *".'),
    reset: bool = typer.Option(False, "--reset", help="Back to the schedule in outlets.toml."),
) -> None:
    """Change an outlet's schedule; it outlives restarts and is not overwritten by the specs."""
    from crawler.outlets.timing import ScheduleError, cron_trigger, format_every, parse_every

    _one_outlet(outlet)
    if sum(x is not None and x is not False for x in (every, cron, reset or None)) != 1:
        fail("give exactly one of --every, --cron or --reset")
    try:
        seconds = parse_every(every) if every is not None else None
        if cron is not None:
            cron_trigger(cron)
    except ScheduleError as exc:
        fail(str(exc))
    if seconds is not None:
        what = f"every {format_every(seconds)}"
        _change(outlet, lambda store, by: store.set_interval(outlet, seconds, by=by))
    elif cron is not None:
        what = f"cron {cron.strip()} (Korea time)"
        _change(outlet, lambda store, by: store.set_cron(outlet, cron.strip(), by=by))
    else:
        what = "the schedule in outlets.toml"
        _change(outlet, lambda store, by: store.reset(outlet, by=by))
    out.print(f"{outlet}: {what}")


@schedule_app.command("run-now")
def schedule_run_now(outlet: str = typer.Argument(..., help="Outlet id.")) -> None:
    """Ask the running scheduler to crawl an outlet now (its run shows in `newsdesk runs`)."""
    if _change(outlet, lambda store, by: store.request_run(outlet, by=by)):
        out.print(f"{outlet}: run requested; the scheduler starts it at its next sync")
    else:
        out.print(f"{outlet}: run requested, but no scheduler is running: it starts when `newsdesk run` does")


def _faults_cell(faults: dict[str, int], shown: int = 3) -> str:
    """The run's commonest faults by name ("http_5xx 12, timeouts 3 +2 more"), "-" if none."""
    ranked = sorted(faults.items(), key=lambda kv: (-kv[1], kv[0]))
    cell = ", ".join(f"{name} {count}" for name, count in ranked[:shown])
    return (cell + (f" +{len(ranked) - shown} more" if len(ranked) > shown else "")) or "-"


runs_app = typer.Typer(invoke_without_command=True)
app.add_typer(runs_app, name="runs")


@runs_app.callback()
def runs(
    ctx: typer.Context,
    outlet: Optional[str] = typer.Option(None, "--outlet", help="Only this outlet."),
    failed: bool = typer.Option(False, "--failed", help="Only runs that did not finish cleanly."),
    limit: int = typer.Option(30, "--limit", min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json", help="JSON lines (with the full Scrapy stats)."),
) -> None:
    """Crawl run history, newest first: outcome, duration, articles, errors (and failed runs' logs).
    `newsdesk runs show RUN_ID` shows one run in full."""
    from crawler.store import RunStore

    if ctx.invoked_subcommand is not None:
        return
    if outlet:
        _one_outlet(outlet)
    client, db = _db(start=False)
    try:
        docs = RunStore(db).find(outlet=outlet, failed=failed, limit=limit, with_stats=as_json)
        database = db.name
    finally:
        client.close()
    if as_json:
        for doc in docs:
            sys.stdout.write(dumps_line(doc))
        return
    table = Table(title=f"{len(docs)} most recent {'failed ' if failed else ''}runs" + (f" of {outlet}" if outlet else "")
                  + f" in database {database}")
    for column in ("started (KST)", "outlet", "trigger", "status", "secs", "pages", "new/upd/same", "dropped", "errors",
                   "faults"):
        table.add_column(column, overflow="fold")
    for doc in docs:
        articles = doc.get("articles") or {}
        errors = doc.get("errors") or {}
        status = doc.get("status", "?")
        if doc.get("cause") and status != "finished":  # why it never reached the site: dns, unreachable, ...
            status += f" ({doc['cause']})"
        if doc.get("error") and doc.get("status") != "finished":
            status += f": {doc['error']}"
        elif doc.get("note"):
            status += f": {doc['note']}"
        table.add_row(
            kst_time(doc.get("started")), doc["outlet"], doc.get("trigger", ""), status,
            f"{doc['duration_s']:.0f}" if doc.get("duration_s") is not None else "-",
            str(doc.get("pages", "-")),
            f"{articles.get('new', 0)}/{articles.get('updated', 0)}/{articles.get('unchanged', 0)}",
            str(sum((doc.get("dropped") or {}).values())),
            str(sum(errors.values())),
            _faults_cell(doc.get("faults") or {}),
        )
    out.print(table)
    logs = [doc for doc in docs if doc.get("log_path") and doc.get("status") not in ("finished", "running", "skipped")]
    for doc in logs[:10]:  # where to look next for what went wrong
        out.print(f"log of {doc['_id']}: {doc['log_path']}", highlight=False, soft_wrap=True)
    if docs:
        out.print("one run in full: newsdesk runs show RUN_ID (ids: newsdesk runs --json)", highlight=False)


def _counts(counts: Any) -> str:
    """{"a": 3, "b": 1} as "a 3, b 1" (largest first), "-" when empty."""
    if not isinstance(counts, dict) or not counts:
        return "-"
    ranked = sorted(counts.items(), key=lambda kv: (-(kv[1] if isinstance(kv[1], (int, float)) else 0), str(kv[0])))
    return ", ".join(f"{name} {count}" for name, count in ranked)


def _checks_lines(checks: Any) -> list[str]:
    """The `checks` monitoring stored on the run: each check's verdict, then its figures."""
    if not isinstance(checks, dict) or not checks:
        return ["-  (not judged: monitoring off, or the run recorded no stats)"]
    lines = [f"{name}: {verdict}" for name, verdict in sorted((checks.get("results") or {}).items())]
    figures = {k: v for k, v in checks.items() if k not in ("results", "failed")}
    if figures:
        lines.append(", ".join(f"{k} {v if not isinstance(v, float) else round(v, 3)}" for k, v in sorted(figures.items())))
    if checks.get("failed"):
        lines.append("failed: " + ", ".join(map(str, checks["failed"])))
    return lines


def _print_run(run: dict[str, Any], database: dict[str, Any]) -> None:
    from rich.text import Text

    def line(label: str, value: Any) -> None:
        text = Text(f"{label:<12}", style="bold")
        text.append(str(value))
        out.print(text, soft_wrap=True)

    articles = run.get("articles") or {}
    status = str(run.get("status", "?"))
    if run.get("cause") and status != "finished":  # why it never reached the site: dns, unreachable, ...
        status += f" ({run['cause']})"
    if run.get("error") and run.get("status") != "finished":
        status += f": {run['error']}"
    elif run.get("note"):
        status += f": {run['note']}"
    out.print(Text(f"run {run['id']}  (database {database['name']} at {database['uri']})", style="bold"), soft_wrap=True)
    line("outlet", f"{run.get('outlet')} · trigger {run.get('trigger') or '-'} · owner {run.get('owner') or '-'}"
                   f" · dispatcher {run.get('dispatcher') or '-'}")
    line("status", f"{status} (finish reason {run.get('finish_reason') or '-'})")
    duration = run.get("duration_s")
    line("time (KST)", f"{kst_time(run.get('started'))} to {kst_time(run.get('ended'))}"
                       + (f", {duration:.0f} s" if isinstance(duration, (int, float)) else ""))
    line("pages", f"{run.get('pages', '-')} · items {run.get('items', '-')} · retries {run.get('retries', '-')}")
    line("articles", f"new {articles.get('new', 0)} · updated {articles.get('updated', 0)}"
                     f" · unchanged {articles.get('unchanged', 0)}")
    line("dropped", _counts(run.get("dropped")))
    line("errors", _counts(run.get("errors")))
    line("HTTP", _counts(run.get("http_status")))
    line("faults", _counts(run.get("faults")))
    for n, text in enumerate(_checks_lines(run.get("checks"))):
        line("checks" if n == 0 else "", text)
    window = run["articles_window"]
    since = window.get("since")
    if since is not None:
        from datetime import datetime, timezone

        days = max(1, -(-int((datetime.now(timezone.utc) - since).total_seconds()) // 86400))
        line("stored", f"newsdesk articles --outlet {window['outlet']} --days {days}"
                       f"  (first seen {kst_time(since)} to {kst_time(window.get('until'))} KST)")
    workers = run.get("workers") or []
    if workers:
        table = Table(title=f"{len(workers)} worker shares")
        for column in ("worker", "at (KST)", "finish", "pages", "new/upd/same", "errors", "faults"):
            table.add_column(column, overflow="fold")
        for share in workers:
            counts = share.get("articles") or {}
            table.add_row(share["worker"], kst_time(share.get("at")), str(share.get("finish_reason") or "-"),
                          str(share.get("pages", 0)),
                          f"{counts.get('new', 0)}/{counts.get('updated', 0)}/{counts.get('unchanged', 0)}",
                          str(share.get("errors", 0)), _faults_cell(share.get("faults") or {}))
        out.print(table)
    tail = run["log_tail"]
    line("log", tail.get("path") or "-")
    if tail.get("problem"):
        out.print(Text(f"  ({tail['problem']})"), soft_wrap=True)
    else:
        out.print(Text(f"  last {len(tail['lines'])} lines" + (" (earlier lines not shown)" if tail.get("truncated") else "")
                       + ":", style="dim"))
        for text in tail["lines"]:
            out.print(Text("  " + text), soft_wrap=True)


@runs_app.command("show")
def runs_show(
    run_id: str = typer.Argument(..., help="Run id, as `newsdesk runs --json` and the dashboard give it."),
    as_json: bool = typer.Option(False, "--json", help="JSON (the run document with its full Scrapy stats, "
                                                       "worker shares and log tail) instead of text."),
) -> None:
    """One run in full: stats, faults, checks, worker shares, where its articles are, its log's last lines."""
    from crawler.status import RUN_ID, database_info, run_detail

    run_id = run_id.strip()
    if not RUN_ID.match(run_id):
        fail(f"{run_id!r} is not a run id (like joongdo-20240531T090000-a1b2c3; see newsdesk runs --json)")
    from crawler.store import database_name, get_client

    uri = check_db(start=False)
    client = get_client(uri)
    try:
        db = client[database_name()]
        database = database_info(db, uri)
        run = run_detail(db, run_id, with_stats=as_json)
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback
        fail(f"cannot read run {run_id}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        return
    finally:
        client.close()
    if run is None:
        fail(f"no run {run_id} in database {database['name']} (at {database['uri']})")
        return
    if as_json:
        sys.stdout.write(dumps({"database": database, "run": run}, indent=2) + "\n")
        return
    _print_run(run, database)
