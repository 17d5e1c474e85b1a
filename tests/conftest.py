"""Shared fixtures: a MongoDB-protocol server for the session and a fresh database per test.

Without MONGO_URI the tests run against SecantusDB started in this process (port 0, a
temporary folder); with MONGO_URI the same tests run against that real MongoDB. Tests
marked ``mongo`` need a real MongoDB and are skipped when MONGO_URI is unset.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timezone
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

# a crawl subprocess that dies in C code (SIGSEGV) prints its Python stack to the stderr a test shows
os.environ.setdefault("PYTHONFAULTHANDLER", "1")


def _configured_mongo_uri() -> str:
    return os.environ.get("MONGO_URI", "").strip()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _configured_mongo_uri():
        return
    skip = pytest.mark.skip(reason="needs a real MongoDB: set MONGO_URI")
    for item in items:
        if "mongo" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URI of the server the tests use: MONGO_URI, else a session-wide SecantusDB."""
    configured = _configured_mongo_uri()
    if configured:
        yield configured
        return
    from secantus import SecantusDBServer

    storage = tmp_path_factory.mktemp("secantus")
    server = SecantusDBServer(
        host="127.0.0.1", port=0, storage_path=str(storage), replica_set_name=None
    )
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mongo_client(mongo_uri: str) -> Iterator[MongoClient[dict[str, Any]]]:
    """One client for the session; datetimes come back aware in UTC."""
    client: MongoClient[dict[str, Any]] = MongoClient(
        mongo_uri,
        tz_aware=True,
        tzinfo=timezone.utc,
        serverSelectionTimeoutMS=10_000,
        appname="newsdesk-tests",
    )
    yield client
    client.close()


@pytest.fixture
def mongo_db(mongo_client: MongoClient[dict[str, Any]]) -> Iterator[Database[dict[str, Any]]]:
    """A database no other test uses, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    yield mongo_client[name]
    mongo_client.drop_database(name)
