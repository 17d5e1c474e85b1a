"""`newsdesk health`: each outlet's state from its run history, for people, machines and cron.

The table answers "is any outlet broken, and how": last new article, today's new articles
against the outlet's own 14-day baseline, field coverage and fallback share of its newest
informative run, and the open conditions (silent, drift, failing, blocked) with their likely
cause below. `--check` follows the monitoring-plugin convention (Nagios, Icinga; fine for
cron too): one status line first, exit 0 OK, 1 WARNING (outlets never crawled or not judged
yet), 2 CRITICAL (an outlet has an open condition), 3 UNKNOWN (no database, or one holding no
crawl run). The report and the verdict are crawler.status's (health_report, check_verdict).
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any, Optional

import typer
from rich.table import Table

from crawler.cli.common import check_db, check_outlets, kst_time, err, out
from crawler.jsonformat import dumps

# `health` imports the project settings (Scrapy), crawler.status (monitoring), the store
# (pymongo) and the outlet registry when it runs: `newsdesk --help` and argument errors must
# not pay for them (crawler.cli.main).

app = typer.Typer()

UNKNOWN = 3  # crawler.status.CHECK_UNKNOWN, without importing crawler.status before the command runs
SHORT = {"title": "t", "body": "b", "published": "p", "authors": "a"}


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value:.0%}"


def _since(value: Any, now: datetime) -> str:
    if not isinstance(value, datetime):
        return "-"
    hours = (now - value).total_seconds() / 3600
    ago = f"{hours:.0f}h" if hours < 48 else f"{hours / 24:.0f}d"
    shown, today = kst_time(value), kst_time(now)
    return f"{shown[11:] if shown[:10] == today[:10] else shown[5:]} ({ago})"


def _coverage_cell(doc: dict[str, Any]) -> str:
    coverage = doc.get("coverage") or {}
    if not any(v is not None for v in coverage.values()):
        return "-"
    return " ".join(f"{SHORT[f]}{coverage[f] * 100:.0f}" for f in SHORT if coverage.get(f) is not None)


def _print_table(report: list[dict[str, Any]], now: datetime) -> None:
    unhealthy = [d for d in report if not d["healthy"]]
    never = sum(1 for d in report if d["healthy"] and d["state"] == "no runs")  # not "ok": nothing is known
    ok = len(report) - len(unhealthy) - never
    counts = f"{ok} ok, {len(unhealthy)} unhealthy" + (f", {never} never crawled" if never else "")
    table = Table(title=f"outlet health: {counts} (times KST)")
    for column in ("outlet", "state", "last new", "today/usual", "coverage", "fb", "open"):
        table.add_column(column, overflow="fold")
    for doc in report:
        usual = doc.get("baseline_per_day")
        state = doc["state"]
        style = {"unhealthy": "bold red", "no runs": "dim"}.get(state, "green")
        table.add_row(
            doc["outlet"],
            f"[{style}]{state}[/]",
            _since(doc.get("last_new_article"), now),
            f"{doc.get('today', 0)}/{'-' if usual is None else f'{usual:.0f}'}",
            _coverage_cell(doc),
            _pct(doc.get("fallback_share")),
            ", ".join(doc["open"]) or "-",
        )
    out.print(table)
    out.print("coverage: share of articles with t=title b=body p=published a=authors; "
              "fb: share needing the generic fallback; newest run with enough articles", highlight=False)
    for doc in unhealthy:
        for name in doc["open"]:
            condition = doc["conditions"][name]
            stale = " (not re-judged since: no run could tell)" if condition.get("stale") else ""
            out.print(f"[bold]{doc['outlet']}[/] {name}{stale}: {condition['cause']}", highlight=False, soft_wrap=True)
            if condition.get("log_path"):
                out.print(f"  log: {condition['log_path']}", highlight=False, soft_wrap=True)


@app.command()
def health(
    outlets: Optional[list[str]] = typer.Argument(None, help="Only these outlets (default: all)."),
    as_json: bool = typer.Option(False, "--json", help="JSON for machines instead of a table."),
    check: bool = typer.Option(False, "--check", help="Status line first; exit 0 OK, 1 WARNING (never crawled or not judged "
                                                   "yet), 2 CRITICAL (unhealthy), 3 UNKNOWN (no crawl history)."),
) -> None:
    """Each outlet's health from its run history: state, last new article, today vs usual, open conditions."""
    from crawler.config import project_settings
    from crawler.outlets import registry
    from crawler.status import CHECK_NAMES, check_verdict, database_info, has_crawl_history, health_report, search_queue_pending
    from crawler.store import database_name, get_client

    names = check_outlets(outlets) if outlets else list(registry())
    try:
        uri = check_db(start=False)
    except typer.Exit:
        if check:
            out.print("UNKNOWN: crawl health cannot be read: no database", highlight=False)
            raise typer.Exit(UNKNOWN) from None
        raise
    now = datetime.now(timezone.utc)
    client = get_client(uri)
    try:
        report = health_report(client[database_name()], names, project_settings(), now)
        queue = search_queue_pending(client[database_name()])
        database = database_info(client[database_name()], uri)
        code, line = check_verdict(report, database=database["name"], history=has_crawl_history(client[database_name()]))
    except Exception as exc:  # noqa: BLE001 - one line, and UNKNOWN for a monitoring system
        if check:
            out.print(f"UNKNOWN: crawl health cannot be read: {str(exc).splitlines()[0]}", highlight=False)
            raise typer.Exit(UNKNOWN) from None
        err.print(f"[bold red]error:[/] cannot read run history: {str(exc).splitlines()[0]}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        client.close()
    if as_json:
        sys.stdout.write(dumps({"status": line, "verdict": {"code": code, "name": CHECK_NAMES[code]},
                                "database": database, "search_queue": queue, "outlets": report}, indent=2) + "\n")
    else:
        if check:
            out.print(line, highlight=False, soft_wrap=True)
        _print_table(report, now)
        waiting = "unknown (cannot be read)" if queue is None else f"{queue:,} articles waiting to be indexed"
        out.print(f"search queue: {waiting} · database {database['name']} at {database['uri']}",
                  highlight=False, soft_wrap=True)
    if check and code:
        raise typer.Exit(code)
