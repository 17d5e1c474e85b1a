"""What every command group shares: the consoles, one-line errors, argument checks, Korea time.

Bad input (unknown outlet, unreadable file, unknown domain, bad URI) is a one-line error and
exit code 2, never a traceback: the people typing these commands are operators and outlet
developers, and the message must say what was wrong and what was expected.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from crawler.jsonformat import dumps

# The helpers below import the store (pymongo), the spiders (Scrapy), the outlet registry and
# crawler.text when called: every command imports this module, `newsdesk --help` included
# (crawler.cli.main).

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error and exit (2 = bad input, by convention of this CLI)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


FIELD_ORDER = (
    "outlet", "url", "canonical_url", "title", "subtitle", "sections", "published", "modified",
    "print_edition", "authors", "region", "wire", "body", "images", "provenance", "content_hash",
    "first_seen", "last_seen",
)


def ordered(doc: dict[str, Any]) -> dict[str, Any]:
    """The article's fields in reading order (dataclass order is constrained by defaults)."""
    doc = {k: v for k, v in doc.items() if k != "_id" and (k != "extra" or v)}
    first = {k: doc[k] for k in FIELD_ORDER if k in doc}
    return {**first, **{k: v for k, v in doc.items() if k not in first}}


def to_json(obj: Any) -> str:
    return dumps(obj, indent=2)



def check_outlets(names: list[str]) -> list[str]:
    from crawler.outlets import OutletError, get_outlet

    for name in names:
        try:
            get_outlet(name)
        except OutletError as exc:
            fail(str(exc))
    return names

def checked_base_url(base_url: str) -> str:
    from crawler.spiders.outlet import OutletSpider

    try:
        checked = OutletSpider.check_base_url(base_url)
        urlsplit(checked).port  # ValueError for a port past 65535 or not a number
    except ValueError as exc:
        fail(f"--base-url {base_url!r}: {exc}")
        raise AssertionError("unreachable") from exc
    return checked

def check_writable(path: Path, option: str) -> Path:
    """`path` if it can be written as a file (it may exist and is then replaced), else a
    one-line error: checked before work that takes seconds, not found out after it."""
    if path.is_dir():
        fail(f"{option} {path}: is a folder; expected a file name")
    if not path.parent.is_dir():
        fail(f"{option} {path}: folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        fail(f"{option} {path}: not writable")
    return path

def check_db(*, start: bool = True) -> str:
    """Resolve (and if needed start) the database before crawling, so errors come early.

    Read-only commands pass start=False: looking at an empty folder must not create one.
    """
    from crawler.store import EmbeddedServerError, InvalidURI, check_uri, data_dir, get_client, mask_uri, resolve_uri

    checked_db_name()  # before starting anything: a name MongoDB refuses fails every command alike
    try:
        uri = resolve_uri(start_embedded=start)
    except EmbeddedServerError as exc:
        if not start:
            fail(f"no embedded database is running for {data_dir()} (newsdesk db start, or set MONGO_URI)")
        fail(f"cannot start the embedded database: {exc}")
    except Exception as exc:  # noqa: BLE001 - any failure here is reported in one line
        fail(f"cannot start or find the database: {exc}")
    try:
        check_uri(uri)  # an SRV URI is checked by looking it up, below
    except InvalidURI as exc:
        fail(f"MONGO_URI {mask_uri(uri)!r} is not a usable MongoDB URI: {first_line(exc)}")
    try:
        client = get_client(uri, serverSelectionTimeoutMS=5000)
        client.admin.command("ping")
        client.close()
    except Exception as exc:  # noqa: BLE001
        fail(f"database at {mask_uri(uri)} does not answer: {first_line(exc)}")
    return uri

def checked_db_name(name: str | None = None, option: str = "--db") -> str:
    """The database name the command will use (`name` from an option, else NEWSDESK_DB, the
    database in MONGO_URI's path, or newsdesk), or a one-line error saying what is allowed."""
    from crawler.store.connection import InvalidDatabaseName, check_database_name, database_name

    try:
        return database_name() if name is None else check_database_name(name.strip(), option)
    except InvalidDatabaseName as exc:
        fail(str(exc))
        raise AssertionError("unreachable") from exc

def first_line(exc: BaseException) -> str:
    """An exception's message without pymongo's topology dump and timeout settings."""
    text = (str(exc).splitlines() or [type(exc).__name__])[0]
    for tail in (" (configured timeouts", ", Timeout:", ", Topology Description"):
        text = text.split(tail, 1)[0]
    return text.strip() or type(exc).__name__

def print_article(doc: dict[str, Any]) -> None:
    """A stored article as a person reads it: header facts, then the start of the body."""
    body = doc.get("body") or ""
    text = Text()
    text.append(f"{doc.get('title', '')}\n", style="bold")
    if doc.get("subtitle"):
        text.append(f"{doc['subtitle']}\n", style="italic")
    text.append(
        f"{' > '.join(doc.get('sections') or [])} | published {kst_time(doc.get('published'))} KST"
        f" | modified {kst_time(doc.get('modified'))}\n"
        f"authors {', '.join(doc.get('authors') or []) or '-'} | region {doc.get('region') or '-'}"
        f" | images {len(doc.get('images') or [])}\n\n"
    )
    text.append(body[:280] + ("…" if len(body) > 280 else ""))
    out.print(Panel(text, title=doc.get("canonical_url", ""), title_align="left"))

def kst_time(value: Any) -> str:
    """A stored datetime as people read it here: Korea time, to the minute."""
    from crawler.text.dates import KST

    return value.astimezone(KST).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else "-"

def kst_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """Stored datetimes are UTC; people read Korea time."""
    from crawler.text.dates import KST

    return {k: (v.astimezone(KST) if isinstance(v, datetime) else v) for k, v in doc.items()}
