"""The driver's names the rest of the project may use, so that only crawler.store imports it.

`Database` and `Collection` annotate what callers hold and pass to the stores; `StoreError`
is what any database failure raises (the database is away, a write was refused): code that
must outlive a database restart (the scheduler, the crawl runner, the store pipeline) catches
it without knowing which driver is underneath. `ObjectId` is the type of an article's `_id`;
`ASCENDING` and `DESCENDING` name sort orders.
"""

from __future__ import annotations

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError
from pymongo.errors import PyMongoError as StoreError

__all__ = ["ASCENDING", "DESCENDING", "Collection", "Database", "DuplicateKeyError", "ObjectId", "StoreError"]
