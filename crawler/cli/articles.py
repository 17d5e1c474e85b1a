"""A look at the stored articles: `newsdesk articles` and `newsdesk story`."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from typing import Optional

import typer
from rich.table import Table

from crawler.jsonformat import dumps, dumps_line
from crawler.cli.common import check_db, check_outlets, kst_fields, kst_time, fail, ordered, out

# Each command imports the store (pymongo) and the outlet registry when it runs: `newsdesk
# --help` and argument errors must not pay for them.

app = typer.Typer()


@app.command()
def articles(
    outlet: Optional[str] = typer.Option(None, "--outlet", help="Only this outlet."),
    days: int = typer.Option(7, "--days", min=1, max=36500, help="Articles first seen in the last N days."),
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
) -> None:
    """List recently stored articles, newest first."""
    from crawler.store import ArticleStore, database_name, get_client

    if outlet is not None:
        check_outlets([outlet])
    uri = check_db(start=False)
    client = get_client(uri)
    docs = ArticleStore(client[database_name()]).latest(
        outlet, limit=limit, since=datetime.now(timezone.utc) - timedelta(days=days), by="first_seen"
    )
    client.close()
    if as_json:
        for doc in docs:
            sys.stdout.write(dumps_line(ordered(kst_fields(doc))))
        return
    table = Table(title=f"articles in {database_name()} first seen in the last {days} days, newest first")
    for column in ("published (KST)", "outlet", "title", "authors", "url"):
        table.add_column(column, overflow="fold")
    for doc in docs:
        table.add_row(
            kst_time(doc.get("published")),
            doc.get("outlet", ""), doc.get("title", ""), ", ".join(doc.get("authors") or []), doc.get("canonical_url", ""),
        )
    out.print(table)

@app.command()
def story(
    id_or_url: str = typer.Argument(..., help="A story_id, or the URL (canonical or alias) of any copy."),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
) -> None:
    """Show a story's copies across outlets: outlet, time, URL and how close each is."""
    from crawler.store import ArticleStore, database_name, get_client
    from crawler.store.stories import StoryMergeStore

    if id_or_url.startswith(("http://", "https://")):
        from crawler.outlets import canonical_url_of

        try:
            canonical_url_of(id_or_url)  # checked before connecting: no host, a broken IPv6 address, a bad port
        except ValueError as exc:
            fail(f"ID_OR_URL {id_or_url!r} is not a usable URL: {exc}")
    uri = check_db(start=False)
    client = get_client(uri)
    try:
        store = ArticleStore(client[database_name()])
        merges = StoryMergeStore(client[database_name()])
        story_id = id_or_url
        if id_or_url.startswith(("http://", "https://")):
            from crawler.outlets import canonical_url_of

            doc = store.find_by_url(id_or_url) or store.find_by_url(canonical_url_of(id_or_url))
            if doc is None:
                fail(f"no stored article at {id_or_url}")
            if not doc.get("story_id"):
                fail(f"{id_or_url} is stored but has no story (its body is too short to compare)")
            story_id = doc["story_id"]
        requested, story_id = story_id, merges.resolve(story_id)
        copies = store.story(story_id)
        merged_ids = merges.merged_ids(story_id) if copies else []
    finally:
        client.close()
    if not copies:
        fail(f"no story {requested!r}")
    if as_json:
        sys.stdout.write(dumps({"story_id": story_id, "requested_id": requested if requested != story_id else None,
                                "merged_ids": merged_ids, "copies": [kst_fields(c) for c in copies]}, indent=2) + "\n")
        return
    if requested != story_id and not requested.startswith(("http://", "https://")):
        out.print(f"story {requested} was merged into {story_id}: copies of it were first given two ids", highlight=False)
    table = Table(title=f"story {story_id}: {len(copies)} copies"
                  + (f" (merged from {', '.join(merged_ids)})" if merged_ids else ""))
    for column in ("published (KST)", "outlet", "similarity", "title", "url"):
        table.add_column(column, overflow="fold")
    for copy in copies:
        similarity = copy.get("story_similarity")
        table.add_row(
            kst_time(copy.get("published") or copy.get("first_seen")),
            copy.get("outlet", ""),
            "first copy" if similarity is None else f"{similarity:.2f}",
            copy.get("title", ""),
            copy.get("canonical_url", ""),
        )
    out.print(table)
