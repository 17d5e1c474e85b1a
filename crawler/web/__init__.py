"""The web dashboard and read-only JSON API (`newsdesk serve`).

`create_app(db)` builds the FastAPI application over one database, so tests inject a seeded
one. Every page and API route reads only, through crawler.store (crawler.store.reads, RunStore)
and crawler.status, where every read is bounded by an indexed field: SecantusDB scans the
whole collection for anything else.
"""

from crawler.web.app import create_app

__all__ = ["create_app"]
