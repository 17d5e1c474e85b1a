"""The outlet developer's commands: `newsdesk extract`, `newsdesk outlets`, `newsdesk evaluate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer
from rich.table import Table

from crawler.jsonformat import dumps
from crawler.cli.common import err, fail, ordered, out, to_json

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

@app.command()
def outlets(
    as_json: bool = typer.Option(False, "--json", help="JSON for machines instead of a table."),
) -> None:
    """List the outlets newsdesk knows, with their entry points and last crawl status."""
    from crawler.outlets import OutletError, registry
    from crawler.crawl.extensions.progress import summarize
    from crawler.crawl.extensions.stats_file import latest_stats
    from crawler.runners.logs import logs_dir

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

@app.command()
def evaluate(
    folder: Path = typer.Argument(..., help="Folder of <name>.html + <name>.json pairs (searched recursively)."),
    output: Path = typer.Option(Path("evaluation.json"), "--output", "-o", help="Where to write the full results as JSON."),
) -> None:
    """Score extraction against hand-checked pages, beside trafilatura alone on the same pages."""
    from crawler.devtools.evaluate import FIELDS, evaluate as run_evaluation, to_json as scores_json

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
