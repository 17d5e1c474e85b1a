"""Storage for newsdesk: MongoDB connection, the embedded SecantusDB server, articles.

Free of Scrapy so the CLI, scheduler, dashboard and tests use it the same way the store
pipeline does.
"""

from crawler.store.articles import ArticleStore, UpsertResult
from crawler.store.connection import database_name, get_client, resolve_uri, store_env
from crawler.store.embedded import EmbeddedServer, EmbeddedServerError, data_dir
from crawler.store.uri import mask_uri

__all__ = [
    "ArticleStore",
    "EmbeddedServer",
    "EmbeddedServerError",
    "UpsertResult",
    "data_dir",
    "database_name",
    "get_client",
    "mask_uri",
    "resolve_uri",
    "store_env",
]
