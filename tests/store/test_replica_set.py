"""Writes against a replica set: retried across a failure, with a configurable write concern.

SecantusDB started with a replica-set name is a one-node replica set (MongoDB's wire protocol,
hello with setName, failCommand fail points), so these paths are tested here without a
real MongoDB; with MONGO_URI pointing at a real replica set they are the same code.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from pymongo.errors import PyMongoError

from crawler.store import ArticleStore, get_client
from crawler.store.connection import write_concern_options


@pytest.fixture(scope="module")
def replica_set_uri(tmp_path_factory):
    from secantus import SecantusDBServer

    server = SecantusDBServer(host="127.0.0.1", port=0, storage_path=str(tmp_path_factory.mktemp("rs")),
                              replica_set_name="secantus")
    server.start()
    try:
        yield f"{server.uri.rstrip('/')}/?replicaSet=secantus"
    finally:
        server.stop()


def article(n: int) -> dict:
    return {
        "outlet": "joongdo", "url": f"https://www.joongdo.co.kr/web/view.php?key={n}",
        "canonical_url": f"https://www.joongdo.co.kr/web/view.php?key={n}",
        "title": f"기사 {n}", "body": "본문 " * 50, "published": datetime(2026, 11, 25, tzinfo=timezone.utc),
        "content_hash": f"h{n}", "body_hash": f"b{n}",
    }


def fail_next_update(client) -> None:
    # 262 (ExceededTimeLimit) is retryable without marking the server unknown, so the test
    # does not wait for the driver to rediscover its one-node replica set
    client.admin.command({
        "configureFailPoint": "failCommand",
        "mode": {"times": 1},
        "data": {"failCommands": ["insert", "update"], "errorCode": 262, "errorLabels": ["RetryableWriteError"]},
    })


def test_an_upsert_is_retried_after_a_retryable_failure(replica_set_uri):
    client = get_client(replica_set_uri)
    try:
        assert client.admin.command("hello").get("setName") == "secantus"
        store = ArticleStore(client["rs_retry"])
        store.ensure_indexes()
        fail_next_update(client)
        result = store.upsert_many([article(1)], now=datetime.now(timezone.utc))
        assert result.new == 1
        assert client["rs_retry"].articles.count_documents({}) == 1
    finally:
        client.drop_database("rs_retry")
        client.close()


def test_without_retries_the_same_failure_surfaces(replica_set_uri):
    """Proof that the fail point fires: the retry above is what saved the write."""
    client = get_client(replica_set_uri, retryWrites=False)
    try:
        store = ArticleStore(client["rs_noretry"])
        store.ensure_indexes()
        fail_next_update(client)
        with pytest.raises(PyMongoError):
            store.upsert_many([article(1)], now=datetime.now(timezone.utc))
    finally:
        client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
        client.drop_database("rs_noretry")
        client.close()


def test_write_concern_comes_from_the_environment(replica_set_uri, monkeypatch):
    assert write_concern_options({}) == {}
    assert write_concern_options({"NEWSDESK_WRITE_CONCERN": "majority", "NEWSDESK_WRITE_TIMEOUT_MS": "5000"}) == {
        "w": "majority", "wTimeoutMS": 5000}
    assert write_concern_options({"NEWSDESK_WRITE_CONCERN": "2"}) == {"w": 2}
    with pytest.raises(ValueError, match="NEWSDESK_WRITE_TIMEOUT_MS"):
        write_concern_options({"NEWSDESK_WRITE_TIMEOUT_MS": "soon"})
    monkeypatch.setenv("NEWSDESK_WRITE_CONCERN", "majority")
    client = get_client(replica_set_uri)
    try:
        assert client.write_concern.document == {"w": "majority"}
        store = ArticleStore(client["rs_wc"])
        store.ensure_indexes()
        assert store.upsert_many([article(2)], now=datetime.now(timezone.utc)).new == 1
    finally:
        client.drop_database("rs_wc")
        client.close()


def test_concurrent_writers_never_double_an_article(replica_set_uri):
    """Workers racing on the same articles: the unique canonical_url index keeps one each."""
    client = get_client(replica_set_uri)
    db = client["rs_race"]
    ArticleStore(db).ensure_indexes()
    docs = [article(n) for n in range(40)]
    errors: list[BaseException] = []

    def write() -> None:
        try:
            ArticleStore(db).upsert_many([dict(d) for d in docs], now=datetime.now(timezone.utc))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=write) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert db.articles.count_documents({}) == 40
        assert len(db.articles.distinct("canonical_url")) == 40
    finally:
        client.drop_database("rs_race")
        client.close()
