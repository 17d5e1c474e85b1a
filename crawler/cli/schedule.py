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


def _warn_if_no_scheduler(db: Any) -> None:
    from crawler.status import live_schedulers

    if not live_schedulers(db):
        err.print(
            "note: no `newsdesk run` scheduler is running on this database; the change applies when one starts",
            highlight=False,
        )


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
    finally:
        client.close()
    rows = schedule_rows(listing)
    if as_json:
        sys.stdout.write(dumps({"schedulers": listing.schedulers, "outlets": rows}, indent=2) + "\n")
        return
    running = ", ".join(listing.schedulers) or "none running"
    table = Table(title=f"schedule (scheduler: {running})")
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


def _change(outlet: str, apply: Any) -> None:
    """Record an operator's change for `outlet` (apply(store, by)); say so if no scheduler runs."""
    from crawler.store import ScheduleStore

    _one_outlet(outlet)
    client, db = _db(start=True)
    try:
        apply(ScheduleStore(db), _operator())
        _warn_if_no_scheduler(db)
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
    _change(outlet, lambda store, by: store.request_run(outlet, by=by))
    out.print(f"{outlet}: run requested; the scheduler starts it at its next sync")


def _faults_cell(faults: dict[str, int], shown: int = 3) -> str:
    """The run's commonest faults by name ("http_5xx 12, timeouts 3 +2 more"), "-" if none."""
    ranked = sorted(faults.items(), key=lambda kv: (-kv[1], kv[0]))
    cell = ", ".join(f"{name} {count}" for name, count in ranked[:shown])
    return (cell + (f" +{len(ranked) - shown} more" if len(ranked) > shown else "")) or "-"


@app.command()
def runs(
    outlet: Optional[str] = typer.Option(None, "--outlet", help="Only this outlet."),
    failed: bool = typer.Option(False, "--failed", help="Only runs that did not finish cleanly."),
    limit: int = typer.Option(30, "--limit", min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json", help="JSON lines (with the full Scrapy stats)."),
) -> None:
    """Crawl run history, newest first: outcome, duration, articles, errors (and failed runs' logs)."""
    from crawler.store import RunStore

    if outlet:
        _one_outlet(outlet)
    client, db = _db(start=False)
    try:
        docs = RunStore(db).find(outlet=outlet, failed=failed, limit=limit, with_stats=as_json)
    finally:
        client.close()
    if as_json:
        for doc in docs:
            sys.stdout.write(dumps_line(doc))
        return
    table = Table(title=f"{len(docs)} most recent {'failed ' if failed else ''}runs" + (f" of {outlet}" if outlet else ""))
    for column in ("started (KST)", "outlet", "trigger", "status", "secs", "pages", "new/upd/same", "dropped", "errors",
                   "faults"):
        table.add_column(column, overflow="fold")
    for doc in docs:
        articles = doc.get("articles") or {}
        errors = doc.get("errors") or {}
        status = doc.get("status", "?")
        if doc.get("error") and status != "finished":
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
