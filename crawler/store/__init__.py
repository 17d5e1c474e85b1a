"""Storage for newsdesk: MongoDB connection, the embedded SecantusDB server, and every collection.

The one package that speaks to the database driver: the rest of the project reads and writes
through the stores here (articles, runs, leases, schedules, alerts, the dashboard's reads)
and takes the driver's types and its error from this package's names (crawler.store.types).
Free of Scrapy so the CLI, scheduler, dashboard and tests use it the same way the store
pipeline does.
"""

from crawler.store.alerts import AlertOutbox, AlertStore
from crawler.store.articles import ArticleStore, UpsertResult
from crawler.store.connection import aware, database_name, get_client, resolve_uri, store_env
from crawler.store.embedded import EmbeddedServer, EmbeddedServerError, data_dir
from crawler.store.keyset import Cursor, CursorError
from crawler.store.leases import LeaseStore
from crawler.store.runs import RunStore
from crawler.store.schedules import ScheduleStore
from crawler.store.types import (
    ASCENDING,
    DESCENDING,
    Collection,
    Database,
    DuplicateKeyError,
    ObjectId,
    StoreError,
)
from crawler.store.uri import InvalidURI, check_uri, mask_uri

__all__ = [
    "ASCENDING",
    "DESCENDING",
    "AlertOutbox",
    "AlertStore",
    "ArticleStore",
    "Collection",
    "Cursor",
    "CursorError",
    "Database",
    "DuplicateKeyError",
    "EmbeddedServer",
    "EmbeddedServerError",
    "InvalidURI",
    "LeaseStore",
    "ObjectId",
    "RunStore",
    "ScheduleStore",
    "StoreError",
    "UpsertResult",
    "aware",
    "check_uri",
    "data_dir",
    "database_name",
    "get_client",
    "mask_uri",
    "resolve_uri",
    "store_env",
]
