"""Which MongoDB server and database newsdesk uses, and how it connects to it.

One rule for every entry point (CLI, scheduler, crawl subprocesses, dashboard, tests):
MONGO_URI when set, otherwise the embedded SecantusDB server of the data folder, started
on first use. Keeping that rule here means no caller decides it differently.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import timezone
from typing import Any

from pymongo import MongoClient
from pymongo.database import Database

from crawler.store.embedded import EmbeddedServer, EmbeddedServerError, data_dir
from crawler.store.uri import mask_uri, uri_database

log = logging.getLogger(__name__)

DEFAULT_DATABASE = "newsdesk"
APPNAME = "newsdesk"
# Long enough for a busy embedded server or an Atlas failover, short enough that a wrong
# MONGO_URI fails a crawl in seconds rather than pymongo's default 30 s.
SERVER_SELECTION_TIMEOUT_MS = 10_000


def resolve_uri(env: Mapping[str, str] = os.environ, *, start_embedded: bool = True) -> str:
    """The MongoDB URI to use: MONGO_URI if set, else the embedded server's.

    With ``start_embedded=False`` the embedded server is only looked up, never started
    (for read-only tools that should not create a data folder as a side effect);
    EmbeddedServerError if it is not running.
    """
    configured = env.get("MONGO_URI", "").strip()
    if configured:
        return configured
    folder = data_dir(env)
    server = EmbeddedServer()
    if start_embedded:
        uri = server.ensure_running(folder)
        log.debug("MONGO_URI unset; using embedded SecantusDB at %s", mask_uri(uri))
        return uri
    state = server.status(folder)
    if state is None or not state["running"]:
        raise EmbeddedServerError(
            f"MONGO_URI is unset and no embedded SecantusDB is running for {folder}; "
            "start newsdesk (or EmbeddedServer().ensure_running) first"
        )
    return str(state["uri"])


# What MongoDB (and pymongo, before sending anything) refuses in a database name, and a name
# of 64 bytes or more.
_FORBIDDEN_IN_NAME = '/\\. "$\0'
MAX_DATABASE_NAME_BYTES = 63


class InvalidDatabaseName(ValueError):
    """NEWSDESK_DB (or the database in MONGO_URI, or a --db option) is not a name MongoDB takes;
    the message names where it came from and what is allowed."""


def check_database_name(name: str, source: str = "NEWSDESK_DB") -> str:
    """`name` if MongoDB takes it as a database name; InvalidDatabaseName naming `source` otherwise."""
    allowed = (f"a non-empty name of at most {MAX_DATABASE_NAME_BYTES} bytes without spaces or any of "
               "/ \\ . \" $ or NUL, like newsdesk or newsdesk_test")
    if not name:
        raise InvalidDatabaseName(f"{source} is empty: expected {allowed}")
    bad = sorted({c for c in name if c in _FORBIDDEN_IN_NAME or not c.isprintable()})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise InvalidDatabaseName(f"{source} {name!r} contains {shown}: expected {allowed}")
    if len(name.encode("utf-8")) > MAX_DATABASE_NAME_BYTES:
        raise InvalidDatabaseName(f"{source} is {len(name.encode('utf-8'))} bytes long: expected {allowed}")
    return name


def database_name(env: Mapping[str, str] = os.environ) -> str:
    """The database name: NEWSDESK_DB, else the database in MONGO_URI's path, else newsdesk.

    NEWSDESK_DB wins so one MongoDB URI (with an auth database in its path, say) can
    serve several newsdesk installations or a test run. NEWSDESK_DB set but blank is an
    error, not the default: a script passing an unset variable must not write into the
    production database. InvalidDatabaseName for a name MongoDB would refuse.
    """
    explicit = env.get("NEWSDESK_DB")
    if explicit is not None:
        return check_database_name(explicit.strip())
    from_uri = uri_database(env.get("MONGO_URI", "").strip())
    if from_uri:
        return check_database_name(from_uri, "the database in MONGO_URI's path")
    return DEFAULT_DATABASE


def get_client(uri: str, **kwargs: Any) -> MongoClient[dict[str, Any]]:
    """A MongoClient with newsdesk's defaults; keyword arguments override them.

    tz_aware with UTC so every datetime read back is aware: Korean dates are shown in
    Asia/Seoul, and a naive datetime would silently be taken as local time somewhere.
    """
    options: dict[str, Any] = {
        "appname": APPNAME,
        "serverSelectionTimeoutMS": SERVER_SELECTION_TIMEOUT_MS,
        "tz_aware": True,
        "tzinfo": timezone.utc,
        # a write cut off by a replica-set election or a dropped connection is retried once
        # by the driver (pymongo's default, stated here because the store relies on it)
        "retryWrites": True,
    }
    options.update(write_concern_options())
    options.update(kwargs)
    return MongoClient(uri, **options)


def aware(db: Database[Any]) -> Database[Any]:
    """`db` reading datetimes back aware in UTC, whatever client it came from (a test's plain
    MongoClient, say), so times compare and convert to Korea time the same everywhere."""
    return db.with_options(codec_options=db.codec_options.with_options(tz_aware=True, tzinfo=timezone.utc))


def write_concern_options(env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Write concern from NEWSDESK_WRITE_CONCERN ("majority", "1", a tag) and
    NEWSDESK_WRITE_TIMEOUT_MS; empty when unset, so options in MONGO_URI (w=...) apply.

    Against a replica set, "majority" makes an acknowledged article survive a failover.
    """
    options: dict[str, Any] = {}
    concern = env.get("NEWSDESK_WRITE_CONCERN", "").strip()
    if concern:
        options["w"] = int(concern) if concern.isdigit() else concern
    timeout = env.get("NEWSDESK_WRITE_TIMEOUT_MS", "").strip()
    if timeout:
        if not timeout.isdigit():
            raise ValueError(f"NEWSDESK_WRITE_TIMEOUT_MS={timeout!r}: expected milliseconds, a whole number")
        options["wTimeoutMS"] = int(timeout)
    return options


STORE_SETTINGS = ("MONGO_URI", "NEWSDESK_DB", "NEWSDESK_DATA_DIR")


def store_env(settings: Any, env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment with Scrapy settings of the same names on top (`-s MONGO_URI=...`).

    Every crawl component that opens the store (spider lookups, dedup index, store
    pipeline) resolves the database from this, so they always agree on which one it is.
    """
    merged = dict(env)
    for name in STORE_SETTINGS:
        value = settings.get(name) if settings is not None else None
        if value:
            merged[name] = str(value)
    return merged
