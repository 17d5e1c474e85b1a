"""One rule for choosing the server and database, and newsdesk's client defaults."""

from __future__ import annotations

from datetime import timezone
from pathlib import Path

import pytest

from crawler.store import EmbeddedServerError, database_name, get_client, resolve_uri


def test_mongo_uri_wins_and_starts_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    env = {"MONGO_URI": "mongodb://db.example:27017/", "NEWSDESK_DATA_DIR": str(folder)}
    assert resolve_uri(env) == "mongodb://db.example:27017/"
    assert not folder.exists()


def test_lookup_only_fails_clearly_without_a_server(tmp_path: Path) -> None:
    env = {"NEWSDESK_DATA_DIR": str(tmp_path / "data")}
    with pytest.raises(EmbeddedServerError, match="no embedded SecantusDB is running"):
        resolve_uri(env, start_embedded=False)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "newsdesk"),
        ({"NEWSDESK_DB": "news_test"}, "news_test"),
        ({"MONGO_URI": "mongodb://u:p@h/regional?authSource=admin"}, "regional"),
        ({"MONGO_URI": "mongodb://h/?authSource=admin"}, "newsdesk"),
        ({"MONGO_URI": "mongodb://h/regional", "NEWSDESK_DB": "override"}, "override"),
    ],
)
def test_database_name(env: dict[str, str], expected: str) -> None:
    assert database_name(env) == expected


def test_client_defaults_and_overrides() -> None:
    client = get_client("mongodb://127.0.0.1:1/")
    try:
        assert client.codec_options.tz_aware
        assert client.codec_options.tzinfo == timezone.utc
        assert client.options.server_selection_timeout == 10
        assert client.options.pool_options.metadata["application"] == {"name": "newsdesk"}
    finally:
        client.close()
    client = get_client("mongodb://127.0.0.1:1/", serverSelectionTimeoutMS=500, appname="x")
    try:
        assert client.options.server_selection_timeout == 0.5
        assert client.options.pool_options.metadata["application"] == {"name": "x"}
    finally:
        client.close()
