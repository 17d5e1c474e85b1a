"""`newsdesk outlet add`: a new outlet from one saved article page (crawler.devtools.onboard)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from crawler.cli.common import err, fail, out

if TYPE_CHECKING:  # the command imports it when it runs
    from crawler.devtools.onboard import CheckReport

# The command imports the onboarding machinery (page objects, the registry, the evaluation)
# when it runs: `newsdesk --help` must not pay for it.

app = typer.Typer(help="Add an outlet from a saved article page.", no_args_is_help=True)


@app.command()
def add(
    name: str = typer.Argument(..., help="The outlet id to create (lowercase letters, digits, underscores)."),
    url: str = typer.Option(..., "--url", help="The saved article's real URL."),
    page: Path = typer.Option(..., "--page", help="The article page, saved byte for byte as the site sent it."),
    region: Optional[str] = typer.Option(None, "--region", help="시/도 short name (경기, 충북, ...); read from the outlet's name if omitted."),
    name_ko: Optional[str] = typer.Option(None, "--name-ko", help="The outlet's Korean name, when the page does not say it (og:site_name, <title>)."),
    rss_url: list[str] = typer.Option([], "--rss-url", help="A feed to use instead of the ones the page names (repeatable)."),
    list_url: list[str] = typer.Option([], "--list-url", help="A list page to use instead of the ones found on the page (repeatable)."),
    entry_page: list[Path] = typer.Option([], "--entry-page", help="A saved feed or list page of the outlet, served at its first feed or list URL (repeatable)."),
    registry_path: Optional[Path] = typer.Option(None, "--registry", help="outlets.toml to append to (default: the project's)."),
    families_path: Optional[Path] = typer.Option(None, "--families", help="families.toml, for a page of no known family (default: the project's)."),
    fixtures: Optional[Path] = typer.Option(None, "--fixtures", help="Fixtures folder (default: the project's tests/fixtures)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the table and the files it would write; write nothing."),
    force: bool = typer.Option(False, "--force", help="Replace an outlet table (and fixture page) of the same name."),
) -> None:
    """Recognise the page's CMS family, write the outlet's table, its fixture and route, and
    check the extraction; then say what to verify by eye."""
    from crawler.devtools import onboard

    default_registry, _default_families, default_fixtures = onboard.default_paths()
    registry_path = registry_path or default_registry
    fixtures = fixtures or default_fixtures
    try:
        html = page.read_bytes()
        entries = tuple(path.read_bytes() for path in entry_page)
    except OSError as exc:
        fail(f"cannot read {exc.filename}: {exc.strerror or exc}")
    try:
        outlets = onboard.registry_at(registry_path)
        if force:
            outlets.pop(name, None)
        templates = onboard.families_at(families_path) if families_path else None
        proposal = onboard.derive_spec(name, url, html, region=region, name_ko=name_ko, rss_urls=tuple(rss_url),
                                       list_urls=tuple(list_url), outlets=outlets, templates=templates)
        spec = onboard.validate_proposal(proposal, "")
        for data in entries:  # a saved feed or list page that has no place is refused before anything is printed
            onboard.entry_route(spec, url, data)
    except onboard.OnboardError as exc:
        fail(str(exc))

    match = proposal.match
    family = f"{match.family}" + (f" (skin {match.skin})" if match.skin else "") if match.family else "none known: generic"
    out.print(f"family: {family}", highlight=False)
    for item in match.evidence:
        out.print(f"  - {item}", highlight=False, markup=False, soft_wrap=True)
    out.print(f"\n# {registry_path}", highlight=False)
    out.print(proposal.toml(), highlight=False, markup=False, soft_wrap=True)
    if proposal.family_table:
        out.print(f"# {families_path or _default_families}", highlight=False)
        out.print(proposal.family_toml(), highlight=False, markup=False, soft_wrap=True)
    for note in proposal.notes:
        err.print(f"note: {note}", highlight=False, soft_wrap=True)
    folder = fixtures / name
    if dry_run:
        out.print(f"would write {folder}/{proposal.page_name}.html, {proposal.page_name}.json (\"checked\": false), "
                  f"site.json, robots.txt, README.md (dry run: nothing written)", highlight=False)
        return
    try:
        written = onboard.write_outlet(proposal, html, registry_path=registry_path, fixtures=fixtures,
                                       families_path=families_path, force=force, entry_pages=entries)
        report = onboard.check_fixture(written.spec, written.template, written.page, written.page.with_suffix(".json"))
    except onboard.OnboardError as exc:
        fail(str(exc))
    out.print("wrote " + ", ".join(str(p) for p in [written.registry] + ([written.families] if written.families else []) + written.files),
              highlight=False, soft_wrap=True)
    _print_check(report)
    for entry in written.entries:
        if not entry.links_article:
            err.print(f"warning: the saved {entry.kind} ({entry.file}) does not link the article: a crawl of the saved "
                      f"site will not reach it", highlight=False, soft_wrap=True)
    page_json = written.page.with_suffix(".json")
    steps = [f"read the page and correct {page_json} by hand, then set \"checked\": true in it\n"
             f"     (newsdesk extract {written.page} --url '{url}' shows the extraction again)"]
    if not written.entries:
        steps.append(f"save the outlet's feed (its first rss_urls entry) or, without one, its first list page into {folder};\n"
                     f"     route it in site.json at that URL's path and add the path to start_paths\n"
                     f"     (--entry-page FILE does this when the outlet is added)")
    steps += ["newsdesk outlets --check   (the registry as every crawl will load it)",
              f"make test   (the fixture's fields, and a crawl of {folder} through the whole pipeline)",
              f"newsdesk crawl {name} --max-articles 20   (the live site, when you are ready)"]
    out.print("\nnext:\n" + "\n".join(f"  {i}. {step}" for i, step in enumerate(steps, 1)),
              highlight=False, markup=False, soft_wrap=True)


def _print_check(report: CheckReport) -> None:
    from crawler.devtools.onboard import first_and_last_sentence

    score = report.score
    doc = report.article
    out.print(f"\nextraction check (newsdesk evaluate's scoring): fields {score.field_accuracy:.0%}, body F1 {score.body_f1:.2f}",
              highlight=False)
    if report.dropped:
        err.print(f"warning: a crawl would drop this article: {report.dropped}", highlight=False, soft_wrap=True)
    for field, source in sorted(report.fallbacks.items()):
        err.print(f"warning: {field} came from {source}, not from the family's selectors: write a selector for it "
                  f"([<outlet>.selectors] in outlets.toml) if the page prints it", highlight=False, soft_wrap=True)
    first, last = first_and_last_sentence(doc.get("body") or "")
    out.print("\nverify by eye against the page:", highlight=False)
    rows = [
        ("title", doc.get("title")),
        ("subtitle", doc.get("subtitle")),
        ("published", f"{doc.get('published')}  (the printed date and time, Korea time)"),
        ("modified", f"{doc.get('modified')}  (only when the page prints a correction time)"),
        ("authors", ", ".join(doc.get("authors") or []) or "(none)"),
        ("region", f"{doc.get('region')}  (the dateline, e.g. 세종= ; None if the page prints none)"),
        ("sections", " > ".join(doc.get("sections") or []) or "(none)"),
        ("body starts", first),
        ("body ends", f"{last}  (no byline, copyright or related-article text after it)"),
        ("images", str(len(doc.get("images") or []))),
    ]
    for label, value in rows:
        out.print(f"  {label:<12} {value}".replace("\n", " / "), highlight=False, markup=False, soft_wrap=True)
