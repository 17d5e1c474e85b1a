"""`newsdesk backfill`: crawl outlets' past, back to a date (crawler/runners/backfill.py)."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, Mapping, Optional

import typer
from rich.table import Table

from crawler.cli.common import check_db, check_outlets, checked_base_url, err, fail, out

app = typer.Typer()


@app.command()
def backfill(
    outlets: list[str] = typer.Argument(..., help="Outlet ids (see `newsdesk outlets`)."),
    since: str = typer.Option(..., "--since", help="Oldest publication date to store, YYYY-MM-DD (Korea time)."),
    until: Optional[str] = typer.Option(None, "--until", help="Newest publication date to store, YYYY-MM-DD (default: today)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Fetch from this host instead (a local copy of the site)."),
    restart: bool = typer.Option(False, "--restart", help="Drop the saved progress of this outlet and window and start over."),
    wait: bool = typer.Option(False, "--wait", help="Wait for a crawl of the outlet that is running now, instead of refusing."),
    set_: Optional[list[str]] = typer.Option(None, "--set", "-s", help="A Scrapy or newsdesk setting NAME=VALUE for this backfill (repeatable)."),
) -> None:
    """Crawl outlets' past articles published between --since and --until, newest first.

    Politer than a scheduled crawl (NEWSDESK_BACKFILL_* settings), stored articles skipped.
    Ctrl-C or a kill stops it; the same command resumes where it stopped. While it runs, the
    scheduler skips these outlets; it refuses to start while one of them is being crawled.
    """
    check_outlets(outlets)
    from crawler.crawl.backfill_state import Window, WindowError

    try:
        window = Window.parse(since, until)
    except WindowError as exc:
        fail(str(exc))
        raise AssertionError("unreachable") from exc
    if base_url is not None:
        base_url = checked_base_url(base_url)
    overrides: dict[str, Any] = {}
    for item in set_ or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not name.strip().isupper():
            fail(f"--set {item!r}: expected NAME=VALUE with an upper-case setting name, like NEWSDESK_BACKFILL_DOWNLOAD_DELAY=2")
        overrides[name.strip()] = value
    from crawler.runners.backfill import BackfillRefused, run_backfills
    from crawler.runners.logs import logs_dir

    check_db()
    log_file = logs_dir() / f"backfill-{datetime.now().strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"

    def waiting(outlet: str, holder: Mapping[str, Any]) -> None:
        err.print(f"{outlet} is being crawled ({holder.get('trigger', 'a crawl')}, by {holder.get('owner', '?')}); "
                  "waiting for it to end", highlight=False, soft_wrap=True)

    err.print(f"backfill {', '.join(outlets)} {window}; log {log_file}", highlight=False, soft_wrap=True)
    try:
        outcomes = run_backfills(outlets, window, base_url=base_url, restart=restart, wait=wait, until_given=until is not None,
                                 settings_overrides=overrides, log_file=log_file, on_wait=waiting)
    except BackfillRefused as exc:
        fail(str(exc), code=1)
        raise AssertionError("unreachable") from exc
    table = Table(title="backfill")
    for column in ("outlet", "window", "pages", "stored", "already stored", "outside window", "reached", "state"):
        table.add_column(column)
    unfinished = 0
    for outcome in outcomes:
        stats = outcome.stats
        reason = stats.get("finish_reason")
        if outcome.complete:
            state = "complete"
        else:
            unfinished += 1
            if reason != "finished":
                state = f"stopped ({reason}); run the same command to resume"
            else:
                missing = [f"{outcome.owed} articles" if outcome.owed else "",
                           f"{outcome.unread} list pages or sitemaps" if outcome.unread else ""]
                state = (f"{' and '.join(m for m in missing if m) or 'not all'} not fetched (the site failed them); "
                         "run the same command to retry")
        reached = str(stats.get("newsdesk/backfill/reached", "-"))[:10]
        table.add_row(
            outcome.outlet, str(outcome.window), str(stats.get("downloader/response_count", 0)),
            str(stats.get("newsdesk/articles/new", 0) + stats.get("newsdesk/articles/updated", 0)),
            str(stats.get("newsdesk/backfill/skipped_stored", 0)),
            str(stats.get("newsdesk/backfill/outside_window", 0) + stats.get("newsdesk/backfill/listed_before_window", 0)
                + stats.get("newsdesk/backfill/listed_after_window", 0)),
            reached, state,
        )
    out.print(table)
    out.print(f"log: {log_file}", highlight=False)
    if unfinished:
        raise typer.Exit(1)
