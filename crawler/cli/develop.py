"""The outlet developer's commands: `newsdesk extract`, `newsdesk outlets`, `newsdesk evaluate`."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer
from rich.table import Table

from crawler.jsonformat import dumps
from crawler.cli.common import check_writable, err, fail, kst_time, ordered, out, to_json

# Each command imports its machinery when it runs (the outlet registry and page objects, the
# pipelines and Scrapy's itemadapter, the evaluation with trafilatura): `newsdesk --help` and
# argument errors must not pay for it.

app = typer.Typer()


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
        if not urlsplit(url).hostname or urlsplit(url).port == -1:
            raise ValueError("no host")
    except ValueError as exc:
        fail(f"--url {url!r}: not a valid URL ({exc})")
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    not_html = _not_html(data)
    if not_html:
        fail(f"{file} is not an article page: {not_html}")
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
    if not (article.title or "").strip() and not (article.body or "").strip():
        fail(f"{file} is not an article page: no title and no body found in it")
    out.print(to_json(ordered(ItemAdapter(article).asdict())), highlight=False, soft_wrap=True)
    try:
        ValidatePipeline().process_item(article)
    except ArticleDropped as exc:
        err.print(f"warning: a crawl would drop this page ({exc})", highlight=False, soft_wrap=True)

_HTML_TAG = re.compile(rb"<(?:!doctype|html|head|body|meta|title|article|div|p|h[1-6]|script|span|table)[\s>/]",
                       re.IGNORECASE)


def _not_html(data: bytes) -> str | None:
    """Why `data` cannot be a saved HTML page (empty, binary, no HTML tag), or None."""
    if not data.strip():
        return "the file is empty"
    head = data[:65536]
    # UTF-16 pages carry NUL bytes between ASCII letters; they start with a byte-order mark
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "it is binary (NUL bytes), not HTML"
    if not _HTML_TAG.search(head) and not _HTML_TAG.search(head.decode("utf-16", "ignore").encode()):
        return "no HTML tags in it (a saved page starts with <!doctype html> or <html>)"
    return None


@app.command()
def outlets(
    as_json: bool = typer.Option(False, "--json", help="JSON for machines instead of a table."),
    check: bool = typer.Option(False, "--check", help="Validate every spec instead (patterns, domains, entry "
                               "points, saved page or unverified reason): exit 0 when sound, 1 with one line per problem."),
    markdown: bool = typer.Option(False, "--markdown", help="Print the table of supported outlets as Markdown "
                                  "(docs/outlets.md) instead."),
    registry_file: Path = typer.Option(None, "--registry", help="Registry file to read instead of the bundled "
                                       "outlets.toml (with --check or --markdown)."),
    fixtures: Path = typer.Option(None, "--fixtures", help="Folder of saved pages that verified_by names "
                                  "(default: tests/fixtures of this checkout; with --check)."),
) -> None:
    """List the outlets newsdesk knows, with their entry points, whether a saved real page backs
    each spec (verified), and the last crawl (from the runs of the database in use, which the
    output names)."""
    from crawler.outlets import OutletError, load_registry, registry

    if check + markdown + as_json > 1:
        fail("--check, --markdown and --json exclude each other")
    if fixtures is not None and not check:
        fail("--fixtures goes with --check")
    if registry_file is not None and not (check or markdown):
        fail("--registry goes with --check or --markdown")
    if check:
        _check_outlets(registry_file, fixtures)
        return
    try:
        specs = load_registry(registry_file) if registry_file is not None else registry()
    except OutletError as exc:
        fail(str(exc))
    if markdown:
        from crawler.outlets.markdown import outlets_markdown

        sys.stdout.write(outlets_markdown(specs.values()))
        return
    database, last_runs, problem = _last_runs(list(specs))
    rows = []
    for spec in specs.values():
        run = last_runs.get(spec.name)
        last = None
        if run is not None:
            articles = run.get("articles") or {}
            last = {
                "run_id": run.get("_id"),
                "started": run.get("started"),
                "finished": run.get("ended"),
                "status": run.get("status"),
                "finish_reason": run.get("finish_reason"),
                "trigger": run.get("trigger"),
                "pages": run.get("pages", 0),
                "new": articles.get("new", 0),
                "updated": articles.get("updated", 0),
                "dropped": sum(v for v in (run.get("dropped") or {}).values() if isinstance(v, (int, float))),
                "errors": sum(v for v in (run.get("errors") or {}).values() if isinstance(v, (int, float))),
                "fallback_articles": run.get("fallback_articles", 0),
            }
        rows.append({
            "database": database,
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
            "verified": spec.verified,
            "verified_by": list(spec.verified_by),
            "unverified": None if spec.verified else (spec.unverified or "no saved page named (verified_by)"),
            "last_crawl": last,
        })
    if as_json:
        sys.stdout.write(dumps(rows, indent=2) + "\n")
        return
    where = f"database {database['name']} at {database['uri']}" if database["name"] else "no database"
    verified = sum(1 for row in rows if row["verified"])
    table = Table(title=f"{len(rows)} outlets, {verified} verified (last crawl: runs of {where}; times KST)")
    for column in ("outlet", "이름", "region", "family", "verified", "entry", "every", "last crawl"):
        table.add_column(column, overflow="fold")
    for row in rows:
        entry = "rss" if row["rss_urls"] else "list"
        if row["sitemap_urls"]:
            entry += "+sitemap"
        last = row["last_crawl"]
        status = (f"unknown ({problem})" if problem else "never") if last is None else (
            f"{kst_time(last['started'])} {last['status']}: {last['new']} new, {last['errors']} errors"
        )
        table.add_row(row["name"], row["name_ko"], row["region"], row["family"],
                      "yes" if row["verified"] else "[yellow]no[/]", entry, f"{row['every_minutes']}m", status)
    out.print(table)
    if problem:
        err.print(f"note: last crawls unknown: {problem}", highlight=False, soft_wrap=True)
    if verified < len(rows):
        err.print(f"note: {len(rows) - verified} outlets are unverified: no saved page of theirs has tested the "
                  "spec yet (reasons: newsdesk outlets --json; docs/outlets.md)", highlight=False, soft_wrap=True)


def _check_outlets(registry_file: Path | None, fixtures: Path | None) -> None:
    """`outlets --check`: one line per problem on stdout, exit 1; a summary line and exit 0 when
    the registry is sound."""
    from crawler.devtools.fixturesite import DEFAULT_FIXTURES
    from crawler.outlets import REGISTRY_PATH, load_registry
    from crawler.outlets.check import check_registry

    path = registry_file if registry_file is not None else Path(str(REGISTRY_PATH))
    folder = fixtures if fixtures is not None else DEFAULT_FIXTURES
    problems = check_registry(path, folder)
    if problems:
        for line in problems:
            out.print(line, highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(1)
    specs = load_registry(path)
    verified = sum(1 for spec in specs.values() if spec.verified)
    out.print(f"{path}: {len(specs)} outlets, all sound; {verified} verified by saved pages in {folder}",
              highlight=False, soft_wrap=True, markup=False)


def _last_runs(names: list[str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]], str | None]:
    """The database in use ({"name", "uri"}, the URI masked), each outlet's newest run in its
    runs collection (crawler.status.last_runs), and why they could not be read (None if they
    were). Outlets are listed even without a database: a developer's checkout may have none."""
    from crawler.cli.common import first_line
    from crawler.status import database_info, last_runs
    from crawler.store import database_name, get_client, resolve_uri

    try:
        uri = resolve_uri(start_embedded=False)
    except Exception:  # noqa: BLE001 - no embedded server running and no MONGO_URI
        return {"name": None, "uri": None}, {}, "no database running (newsdesk db start, or set MONGO_URI)"
    client = None
    try:
        client = get_client(uri, serverSelectionTimeoutMS=5000)
        db = client[database_name()]
        database = database_info(db, uri)
        return database, last_runs(db, names), None
    except Exception as exc:  # noqa: BLE001 - the listing stands without its last crawls
        from crawler.store import mask_uri

        return {"name": database_name(), "uri": mask_uri(uri)}, {}, f"cannot read runs: {first_line(exc)}"
    finally:
        if client is not None:
            client.close()

@app.command()
def evaluate(
    folder: Path = typer.Argument(..., help="Folder of <name>.html + <name>.json pairs (searched recursively)."),
    output: Path = typer.Option(Path("evaluation.json"), "--output", "-o", help="Where to write the full results as JSON."),
) -> None:
    """Score extraction against hand-checked pages: the outlets' own pages and pages of unseen
    sites reported apart, each for newsdesk, its generic fallback alone and trafilatura alone."""
    from crawler.devtools.evaluate import FIELDS, GROUPS, evaluate as run_evaluation, to_json as scores_json

    if not folder.is_dir():
        fail(f"{folder} is not a folder")
    check_writable(output, "--output")  # before scoring, which takes seconds per hundred pages
    try:
        scores = run_evaluation(folder)
    except ValueError as exc:
        fail(str(exc))
    for group in GROUPS:
        systems = [s for s in scores if s.group == group]
        if not systems:
            continue
        what = "outlets' own pages" if group == "own" else "pages of unseen sites"
        table = Table(title=f"{group}: extraction on {systems[0].pages} {what} in {folder}")
        table.add_column("metric")
        for s in systems:
            table.add_column(s.system, justify="right")
        for name in FIELDS:
            if any(name in s.accuracy for s in systems):
                table.add_row(f"{name} accuracy", *(f"{s.accuracy.get(name, float('nan')):.3f}" for s in systems))
        table.add_row("field accuracy (all)", *(f"{s.field_accuracy:.3f}" for s in systems))
        table.add_row("body precision", *(f"{s.body_precision:.3f}" for s in systems))
        table.add_row("body recall", *(f"{s.body_recall:.3f}" for s in systems))
        table.add_row("body F1", *(f"{s.body_f1:.3f}" for s in systems))
        table.add_row("ms per page", *(f"{s.ms_per_page:.1f}" for s in systems))
        out.print(table)
        for result in systems[0].results:
            if result.wrong:
                out.print(f"[yellow]newsdesk miss ({group})[/] {result.name}: {json.dumps(result.wrong, ensure_ascii=False)}",
                          highlight=False)
    try:
        output.write_text(scores_json(scores), encoding="utf-8")
    except OSError as exc:
        fail(f"--output {output}: cannot write it ({exc.strerror or exc})")
    out.print(f"results: {output}")
