"""The analysts' commands: `newsdesk search`, `newsdesk stats`, `newsdesk export`.

crawler.cli.main adds this module's `app` to the application. All three take the same filter
options (outlet, region, section, --since/--until as Korea-time days, story), built into
one crawler.search.Filters, so the same options select the same articles everywhere.
Read-only: they never start the embedded database (`check_db(start=False)`).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterator, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from crawler.cli.common import check_db, check_writable, kst_time, err, fail, out
from crawler.jsonformat import dumps

# Each command imports its machinery when it runs (crawler.search with numpy, and pyarrow for
# Parquet; the store, the outlet registry, crawler.text's date tables): `newsdesk --help` and
# argument errors must not pay for it.

app = typer.Typer()

MAX_QUERY_CHARS = 200  # the dashboard's limit too (crawler.web.params)
STATS_DEFAULT_DAYS = 30

OUTLET = typer.Option(None, "--outlet", help="Only this outlet (repeat for several).")
REGION = typer.Option(None, "--region", help="Only this dateline region, e.g. 대전 (repeat for several).")
SECTION = typer.Option(None, "--section", help="Only articles in this section, e.g. 경제 (repeat for several).")
SINCE = typer.Option(None, "--since", help="From this Korea-time day, YYYY-MM-DD (inclusive).")
UNTIL = typer.Option(None, "--until", help="Through this Korea-time day, YYYY-MM-DD (inclusive).")
STORY = typer.Option(None, "--story", help="Only copies of this story_id (repeat for several).")
SIDO = typer.Option(None, "--sido", help="Only articles about this 시도, e.g. 충남 or 충청남도 (repeat for several).")
SIGUNGU = typer.Option(None, "--sigungu", help="Only articles about this 시군구, e.g. 공주시, 대전 유성구 (repeat for several).")


def _filters(
    outlet: Optional[list[str]], region: Optional[list[str]], section: Optional[list[str]],
    since: Optional[str], until: Optional[str], story: Optional[list[str]],
    *, default_days: int | None = None, sido: Optional[list[str]] = None, sigungu: Optional[list[str]] = None,
) -> Any:
    """Filters from the shared options; one-line errors for bad dates or unknown outlets.

    With `default_days`, a missing --until is today (Korea time) and a missing --since is
    N days before --until: stats needs a bounded range (an open one would scan the
    collection on SecantusDB).
    """
    from crawler.outlets import OutletError, registry
    from crawler.search import Filters, day_range, parse_day
    from crawler.text.dates import KST

    try:
        first = parse_day(since, "--since") if since else None
        last = parse_day(until, "--until") if until else None
    except ValueError as exc:
        fail(str(exc))
        raise AssertionError("unreachable") from exc
    if default_days is not None:
        if last is None:
            last = max(datetime.now(KST).date(), first or date.min)
        if first is None:
            first = last - timedelta(days=default_days - 1)
    if first and last and first > last:
        fail(f"--since {first} is after --until {last}")
    if outlet:
        try:
            known = registry()
        except OutletError as exc:
            fail(str(exc))
            raise AssertionError("unreachable") from exc
        unknown = [o for o in outlet if o not in known]
        if unknown:
            fail(f"unknown outlet {', '.join(unknown)} (see `newsdesk outlets`)")
    sidos, sigungus = _places(sido, sigungu)
    start, end = day_range(first, last)
    return Filters(
        outlets=tuple(outlet or ()), regions=tuple(region or ()), sections=tuple(section or ()),
        since=start, until=end, stories=tuple(story or ()), sidos=sidos, sigungus=sigungus,
    )


def _places(sido: Optional[list[str]], sigungu: Optional[list[str]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """--sido/--sigungu as stored names; a name not in the 법정동 table is exit 2 with a hint."""
    if not sido and not sigungu:
        return (), ()
    from crawler.text.places import PlaceError, filter_names

    try:
        return filter_names(sido or (), sigungu or ())
    except PlaceError as exc:
        option = "--sigungu" if "시군구" in str(exc) else "--sido"
        fail(f"{option}: {exc}")
        raise AssertionError("unreachable") from exc


@contextmanager
def _database() -> Iterator[Any]:
    from crawler.store import database_name, get_client

    uri = check_db(start=False)
    client = get_client(uri)
    try:
        yield client[database_name()]
    finally:
        client.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=False,
    )


def _kst_value(value: Any) -> Any:
    """Datetimes anywhere in a JSON-bound value as Korea time (+09:00)."""
    from crawler.text.dates import KST

    if isinstance(value, datetime):
        return value.astimezone(KST)
    if isinstance(value, dict):
        return {k: _kst_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_kst_value(v) for v in value]
    return value


def _styled(segments: Any) -> Text:
    """Highlighted segments as rich Text: styles, never markup, so article text is inert."""
    text = Text()
    for segment in segments:
        text.append(segment.text, style="bold yellow" if segment.highlight else None)
    return text


# ---------------------------------------------------------------------------------------
@app.command("search")
def search_command(
    query: Optional[str] = typer.Argument(None, help='Words (each must occur; 대전시가 also finds 대전, 대전광역시), "exact phrases", -excluded.'),
    outlet: Optional[list[str]] = OUTLET,
    region: Optional[list[str]] = REGION,
    sido: Optional[list[str]] = SIDO,
    sigungu: Optional[list[str]] = SIGUNGU,
    section: Optional[list[str]] = SECTION,
    since: Optional[str] = SINCE,
    until: Optional[str] = UNTIL,
    story: Optional[list[str]] = STORY,
    page: int = typer.Option(1, "--page", min=1, help="Page of results."),
    per_page: int = typer.Option(10, "--per-page", min=1, max=100, help="Results per page."),
    sort: str = typer.Option("relevance", "--sort", help="relevance (BM25, title words weigh more) or newest."),
    as_json: bool = typer.Option(False, "--json", help="JSON (hits with structured snippets) instead of text."),
    reindex_: bool = typer.Option(False, "--reindex", help="Index queued articles now, then any stored article without search postings."),
    full: bool = typer.Option(False, "--full", help="With --reindex: drop the index and rebuild it from every article."),
) -> None:
    """Search stored articles (Korean full text, ranked, with highlighted snippets)."""
    from crawler.search import SearchError, search

    if reindex_:
        _reindex(full)
        if not query:
            return
    elif full:
        fail("--full goes with --reindex")
    if sort not in ("relevance", "newest"):
        fail(f"--sort {sort!r}: expected relevance or newest")
    if not query or not query.strip():
        fail("give a query, e.g. newsdesk search '대전 아파트' or '\"전통시장 활성화\"'")
    if len(query.strip()) > MAX_QUERY_CHARS:
        fail(f"QUERY is {len(query.strip())} characters long: at most {MAX_QUERY_CHARS} (as the dashboard's q)")
    filters = _filters(outlet, region, section, since, until, story, sido=sido, sigungu=sigungu)
    with _database() as db:
        try:
            result = search(db, query, filters, page=page, per_page=per_page, sort=sort)
        except SearchError as exc:
            fail(str(exc))
            raise AssertionError("unreachable") from exc
    if as_json:
        sys.stdout.write(dumps(_kst_value(result.as_dict()), indent=2) + "\n")
        return
    about = "" if result.total_exact else "about "
    if not result.hits:
        out.print(f"no results for {query!r}" + (f" on page {page} (of {result.pages})" if result.total else ""),
                  highlight=False)
        return
    for rank, hit in enumerate(result.hits, start=(page - 1) * per_page + 1):
        line = Text(f"{rank:>3}. ", style="dim")
        line.append_text(_styled(hit.title_segments))
        out.print(line)
        facts = [f"{kst_time(hit.published)} KST", hit.outlet, hit.region or "", hit.canonical_url]
        out.print(Text("     " + " · ".join(f for f in facts if f), style="dim"), soft_wrap=True)
        for snippet in hit.snippets[:2]:
            out.print(Text("     ").append_text(_styled(snippet)))
    out.print(
        f"{about}{result.total} result{'' if result.total == 1 else 's'} · page {result.page} of {result.pages} · {result.took_ms:.0f} ms",
        style="dim", highlight=False,
    )


def _reindex(full: bool) -> None:
    """Drain the queue of articles the store left for the index, then scan for unmarked ones."""
    from crawler.search import drain, reindex

    def reporter(description: str) -> Any:
        task = progress.add_task(description, total=None, rate="")
        started = datetime.now()

        def report(done: int, total: int) -> None:
            seconds = max(1e-6, (datetime.now() - started).total_seconds())
            progress.update(task, completed=done, total=total, rate=f"{done / seconds:.0f}/s")

        return report

    with _database() as db, _progress() as progress:
        drained = drain(db, progress=reporter("indexing queued articles")).indexed
        done = reindex(db, full=full, progress=reporter("indexing unmarked articles" if not full else "rebuilding the index"))
    err.print(f"indexed {drained} queued and {done} unmarked articles" if not full else
              f"indexed {done} articles (index rebuilt; {drained} queued ones before)", highlight=False)


# ---------------------------------------------------------------------------------------
@app.command("stats")
def stats_command(
    since: Optional[str] = SINCE,
    until: Optional[str] = UNTIL,
    by: Optional[list[str]] = typer.Option(None, "--by", help="outlet, region, sido, sigungu or day; repeat to cross them (default outlet)."),
    outlet: Optional[list[str]] = OUTLET,
    region: Optional[list[str]] = REGION,
    sido: Optional[list[str]] = SIDO,
    sigungu: Optional[list[str]] = SIGUNGU,
    section: Optional[list[str]] = SECTION,
    story: Optional[list[str]] = STORY,
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
    query: Optional[str] = typer.Option(None, "-q", "--query", help="A trend: articles a search for these words finds, per day (with --by outlet, region or section: split by it)."),
) -> None:
    """Articles per outlet, region, 시도, 시군구 or day (Korea time) in a date range (default: the last 30
    days, through today; when those hold no article, the 30 days to the newest stored article's day).
    With --query, how often the words appear per day over the whole range of matches (or
    --since/--until), split by --by."""
    from crawler.search.stats import DIMENSIONS, article_stats
    from crawler.store import reads
    from crawler.text.dates import KST

    if query is not None:
        _query_trend(query, by, _filters(outlet, region, section, since, until, story, sido=sido, sigungu=sigungu), as_json)
        return
    dims = by or ["outlet"]
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        fail(f"--by {unknown[0]!r}: expected one of {', '.join(DIMENSIONS)}")
    filters = _filters(outlet, region, section, since, until, story, default_days=STATS_DEFAULT_DAYS,
                       sido=sido, sigungu=sigungu)
    moved_from: tuple[date, date] | None = None
    span = None
    with _database() as db:
        result = article_stats(db, filters, dims)
        if result.total == 0 and not story:
            # An empty window: find where the stored articles are (bounded reads of the published index).
            span = reads.published_span(db, outlets=tuple(outlet or ()), regions=tuple(region or ()),
                                        sections=tuple(section or ()))
            newest = span.newest.astimezone(KST).date() if span.newest else None
            if since is None and until is None and newest is not None and filters.since and newest < filters.since.date():
                moved_from = (filters.since.date(), (filters.until - timedelta(days=1)).date())
                filters = _filters(outlet, region, section, str(newest - timedelta(days=STATS_DEFAULT_DAYS - 1)),
                                   str(newest), story, sido=sido, sigungu=sigungu)
                result = article_stats(db, filters, dims)
    first = filters.since.date() if filters.since else None
    last = (filters.until - timedelta(days=1)).date() if filters.until else None
    stored = None
    if span is not None:
        stored = {"articles": span.stored,
                  "oldest": str(span.oldest.astimezone(KST).date()) if span.oldest else None,
                  "newest": str(span.newest.astimezone(KST).date()) if span.newest else None}
    if as_json:
        data = result.as_dict(filters)
        data["since"], data["until"] = str(first), str(last)
        data["window_moved"] = moved_from is not None
        if stored is not None:
            data["stored"] = stored
        sys.stdout.write(dumps(data, indent=2) + "\n")
        return
    if moved_from is not None:
        out.print(f"no article published {moved_from[0]} to {moved_from[1]} (the last {STATS_DEFAULT_DAYS} days); "
                  f"showing the {STATS_DEFAULT_DAYS} days to {last}, the day of the newest stored article", highlight=False)
    out.print(f"articles published {first} to {last} (Korea time), by {', '.join(result.by)}", highlight=False)
    if stored is not None and result.total == 0:
        if stored["newest"]:
            matching = "; those matching the filters were" if (outlet or region or section or sido or sigungu) else ","
            out.print(f"the database holds {stored['articles']:,} articles{matching} published {stored['oldest']} to "
                      f"{stored['newest']}: try --since {stored['oldest']} --until {stored['newest']}", highlight=False)
        else:
            out.print(f"the database holds {stored['articles']:,} articles, none matching these filters"
                      if stored["articles"] else "the database holds no article yet", highlight=False)
    table = Table()
    for dim in result.by:
        table.add_column(dim)
    table.add_column("articles", justify="right")
    for row in result.rows:
        table.add_row(*[str(row[d]) for d in result.by], f"{row['articles']:,}")
    table.add_section()
    table.add_row("total", *[""] * (len(result.by) - 1), f"{result.total:,}", style="bold")
    out.print(table)


TREND_COLUMNS = 8  # values of the split shown as columns; the rest are summed as "other"


def _query_trend(query: str, by: Optional[list[str]], filters: Any, as_json: bool) -> None:
    """`stats --query`: matching articles per Korea-time day (or month), split by one facet."""
    from crawler.search import SearchError, search
    from crawler.search.facets import KINDS

    if not query.strip():
        fail("--query is empty: give words, e.g. --query '스마트시티'")
    if len(query.strip()) > MAX_QUERY_CHARS:
        fail(f"--query is {len(query.strip())} characters long: at most {MAX_QUERY_CHARS}")
    dims = [d for d in (by or []) if d != "day"]
    if len(dims) > 1 or (dims and dims[0] not in KINDS):
        fail(f"--by with --query: one of {', '.join(KINDS)} (or day, the default), not {', '.join(by or [])}")
    with _database() as db:
        try:
            result = search(db, query, filters, per_page=1, sort="newest", facets=True,
                            split=dims[0] if dims else None)
        except SearchError as exc:
            fail(f"--query: {exc}")
            raise AssertionError("unreachable") from exc
    facets = result.facets
    assert facets is not None
    if as_json:
        data = {"query": query, "total": result.total, "total_exact": result.total_exact, **facets.as_dict()}
        sys.stdout.write(dumps(data, indent=2) + "\n")
        return
    about = "" if result.total_exact else "about "
    if not facets.days:
        out.print(f"no article matches {query!r}" + (" with these filters" if filters.mongo() else ""), highlight=False)
        return
    first, last = facets.days[0][0], facets.days[-1][0]
    out.print(f"{about}{result.total:,} articles match {query!r}, per {facets.bucket} (Korea time) from {first} to "
              f"{last}" + (f", by {facets.split_by}" if facets.split_by else ""), highlight=False)
    table = Table()
    table.add_column(facets.bucket)
    table.add_column("articles", justify="right")
    shown = list(facets.split)[:TREND_COLUMNS]
    rest = list(facets.split)[TREND_COLUMNS:]
    for value in shown:
        table.add_column(value, justify="right")
    if rest:
        table.add_column(f"other ({len(rest)})", justify="right")
    for i, (day, count) in enumerate(facets.days):
        label = day.isoformat() if facets.bucket == "day" else day.isoformat()[:7]
        cells = [f"{facets.split[v][i]:,}" for v in shown]
        if rest:
            cells.append(f"{sum(facets.split[v][i] for v in rest):,}")
        table.add_row(label, f"{count:,}", *cells)
    out.print(table)


# ---------------------------------------------------------------------------------------
@app.command("export")
def export_command(
    output: Path = typer.Option(..., "-o", "--output", help="File to write (replaced when it exists)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="jsonl, csv or parquet (default: from the file name)."),
    bom: bool = typer.Option(False, "--bom", help="CSV: start with a UTF-8 byte-order mark (Excel then reads Korean right)."),
    outlet: Optional[list[str]] = OUTLET,
    region: Optional[list[str]] = REGION,
    sido: Optional[list[str]] = SIDO,
    sigungu: Optional[list[str]] = SIGUNGU,
    section: Optional[list[str]] = SECTION,
    since: Optional[str] = SINCE,
    until: Optional[str] = UNTIL,
    story: Optional[list[str]] = STORY,
    query: Optional[str] = typer.Option(None, "-q", "--query", help="Only the articles a search for these words finds (as `newsdesk search`)."),
) -> None:
    """Export articles (oldest first) to JSONL, CSV or Parquet, streamed with a progress bar.

    Datetimes are Korea time: ISO 8601 with +09:00 (JSONL, CSV), Asia/Seoul timestamps (Parquet).
    """
    from crawler.search import SearchError
    from crawler.search.export import FORMATS, count_articles, export_articles

    chosen = (fmt or output.suffix.lstrip(".")).lower()
    if chosen not in FORMATS:
        fail(f"--format {fmt or chosen!r}: expected one of {', '.join(FORMATS)}" +
             ("" if fmt else f" (or name the file .{'/.'.join(FORMATS)})"))
    if bom and chosen != "csv":
        fail("--bom applies to CSV only")
    check_writable(output, "--output")
    filters = _filters(outlet, region, section, since, until, story, sido=sido, sigungu=sigungu)
    with _database() as db, _progress() as progress:
        try:
            total = count_articles(db, filters, query)
        except SearchError as exc:
            fail(f"--query: {exc}")
        task = progress.add_task(f"exporting {chosen}", total=total, rate="")
        started = datetime.now()

        def report(done: int) -> None:
            seconds = max(1e-6, (datetime.now() - started).total_seconds())
            progress.update(task, completed=done, total=max(total, done), rate=f"{done / seconds:.0f} rows/s")

        try:
            rows = export_articles(db, filters, chosen, output, bom=bom, progress=report, query=query)
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}")
            raise AssertionError("unreachable") from exc
    err.print(f"wrote {rows} articles to {output}", highlight=False)



# ---------------------------------------------------------------------------------------
@app.command("places")
def places_command(
    reindex: bool = typer.Option(False, "--reindex", help="Tag every stored article not tagged by this version of the table and rules."),
    force: bool = typer.Option(False, "--force", help="With --reindex: tag every article again, tagged or not."),
    since: Optional[str] = SINCE,
    until: Optional[str] = UNTIL,
    sido: Optional[list[str]] = SIDO,
    top: int = typer.Option(20, "--top", min=1, help="시군구 rows to show."),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of tables."),
) -> None:
    """Articles per 시도 and 시군구 in a date range (default: the last 30 days); with --reindex,
    give stored articles their places (resumable: a run started again skips what is done)."""
    if force and not reindex:
        fail("--force applies to --reindex only")
    if reindex:
        _reindex_places(force)
        return
    from crawler.search.stats import place_counts

    filters = _filters(None, None, None, since, until, None, default_days=STATS_DEFAULT_DAYS, sido=sido)
    with _database() as db:
        counts = place_counts(db, filters)
    if as_json:
        data = counts.as_dict()
        data["since"] = str(filters.since.date()) if filters.since else None
        data["until"] = str((filters.until - timedelta(days=1)).date()) if filters.until else None
        sys.stdout.write(dumps(data, indent=2) + "\n")
        return
    table = Table(title="articles per 시도")
    for column in ("시도", "code", "articles"):
        table.add_column(column, justify="right" if column == "articles" else "left")
    for row in counts.sido:
        table.add_row(row["sido"], row["sido_code"], f"{row['articles']:,}")
    out.print(table)
    table = Table(title=f"articles per 시군구 (top {top})")
    for column in ("시도", "시군구", "code", "articles"):
        table.add_column(column, justify="right" if column == "articles" else "left")
    for row in counts.sigungu[:top]:
        table.add_row(row["sido"], row["sigungu"], row["sigungu_code"], f"{row['articles']:,}")
    out.print(table)
    if counts.untagged:
        out.print(f"{counts.untagged:,} of {counts.total:,} articles have no places yet: `newsdesk places --reindex`",
                  highlight=False)


def _reindex_places(force: bool) -> None:
    from crawler.search.places import reindex_places

    with _database() as db, _progress() as progress:
        from crawler.store.articles import ArticleStore

        total = ArticleStore(db, search=False).count()
        task = progress.add_task("tagging places", total=total, rate="")
        started = datetime.now()
        done = 0

        def report(count: int) -> None:
            nonlocal done
            done += count
            seconds = max(1e-6, (datetime.now() - started).total_seconds())
            progress.update(task, completed=done, total=max(total, done), rate=f"{done / seconds:.0f}/s")

        result = reindex_places(db, force=force, progress=report)
    err.print(f"tagged {result.tagged} articles ({result.skipped} already tagged by this version)", highlight=False)
