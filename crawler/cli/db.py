"""`newsdesk db ...` (the embedded database) and `newsdesk deadletter ...` (articles it refused)."""

from __future__ import annotations

import os

import typer

from crawler.cli.common import check_db, fail, out

# Each command imports the store (pymongo, the embedded server) when it runs: `newsdesk --help`
# and argument errors must not pay for it.

db_app = typer.Typer(help="The embedded database (SecantusDB) used when MONGO_URI is unset.", no_args_is_help=True)
deadletter_app = typer.Typer(help="Articles the database refused, kept on disk until replayed.", no_args_is_help=True)


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
    uri = check_db()
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
        try:
            lines = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        except (OSError, UnicodeDecodeError) as exc:  # a folder, no permission, not UTF-8 text
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            out.print(f"{path}  (unreadable: {why}; replay leaves it where it is)", highlight=False)
            continue
        out.print(f"{path}  ({lines} articles)")

@deadletter_app.command("replay")
def deadletter_replay() -> None:
    """Write dead-lettered articles into the database (idempotent); replayed files move aside."""
    from crawler.store import ArticleStore, data_dir, database_name, get_client
    from crawler.store.deadletter import replay

    uri = check_db()
    client = get_client(uri)
    try:
        store = ArticleStore(client[database_name()])
        store.ensure_indexes()
        result = replay(data_dir() / "deadletter", store)
    except OSError as exc:  # a folder named *.jsonl, a file without permission: the rest waits too
        fail(f"cannot replay {exc.filename or data_dir() / 'deadletter'}: {exc.strerror or exc}; "
             "nothing after it was replayed", code=1)
    finally:
        client.close()
    out.print(
        f"replayed {result.files} files, {result.articles} articles: {result.new} new, "
        f"{result.updated} updated, {result.unchanged} already stored"
        + (f"; {result.superseded} skipped: fetched again since" if result.superseded else "")
    )
    if result.failed_files:
        fail(f"{result.failed_files} files could not be replayed; they stay in {data_dir() / 'deadletter'}", code=1)
