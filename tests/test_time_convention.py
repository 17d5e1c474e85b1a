"""One time convention in every machine-readable output: each datetime that `--json` of any
command (schedule list, runs, runs show, health, outlets, articles, story, search, stats) and
the dashboard's API write is ISO 8601 in Korea time with its offset, +09:00.

A seeded database (the dashboard tests' seed: articles, a story, runs; plus a distributed
round with worker shares and checks, and an open alert) is read by each command in a
subprocess, as an operator or a script would; every string in the output that is a datetime
must end in +09:00 (a date without a time is a Korea-time day and is left alone)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from crawler.monitoring.conditions import Condition
from crawler.store.alerts import AlertStore
from crawler.store.runs import RunStore
from tests.web.conftest import STORY, Seeded, seed

ROOT = Path(__file__).resolve().parent.parent
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


@pytest.fixture(scope="module")
def seeded_env(mongo_uri: str, mongo_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Seeded, str]]:
    name = f"test_time_{uuid.uuid4().hex[:10]}"
    seeded = seed(mongo_client[name])
    runs = RunStore(seeded.db)
    round_id = runs.open("busan", "schedule", owner="test@host", dispatcher="redis")
    runs.add_worker_stats(round_id, "w1", {"finish_reason": "finished", "newsdesk/articles/new": 2,
                                          "start_time": datetime.now(timezone.utc)})
    runs.set_checks(round_id, {"results": {"items": "passed"}, "failed": [], "items": 2})
    runs.close(round_id, returncode=0, stats={"finish_reason": "finished"})
    AlertStore(seeded.db).open("joongdo", Condition("silent", True, cause="no new article for 9 hours"), seeded.now)
    env = dict(os.environ, MONGO_URI=mongo_uri, NEWSDESK_DB=name, NEWSDESK_ENV="test",
               NEWSDESK_DATA_DIR=str(tmp_path_factory.mktemp("data")), COLUMNS="200")
    try:
        yield env, seeded, round_id
    finally:
        mongo_client.drop_database(name)


def _newsdesk(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1, 2, 3) and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout.strip(), f"newsdesk {' '.join(args)} wrote nothing: {proc.stderr}"
    return proc.stdout


def _documents(text: str) -> list[Any]:
    """One JSON document, or JSON lines."""
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _datetimes(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _datetimes(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _datetimes(item, f"{where}[{n}]")
    elif isinstance(value, str) and DATETIME.match(value):
        yield where, value


def _assert_korea_time(documents: list[Any], command: str) -> int:
    found = [(where, value) for doc in documents for where, value in _datetimes(doc)]
    wrong = [(where, value) for where, value in found if not value.endswith("+09:00")]
    assert not wrong, f"{command}: datetimes not in Korea time: {wrong[:5]}"
    return len(found)


COMMANDS = [
    ["schedule", "list", "--json"],
    ["runs", "--json"],
    ["runs", "show", "{round}", "--json"],
    ["health", "--json"],
    ["outlets", "--json"],
    ["articles", "--json", "--days", "30"],
    ["story", STORY, "--json"],
    ["search", "행정수도", "--json"],
    ["stats", "--json", "--by", "day"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
def test_every_json_datetime_is_korea_time(seeded_env: tuple[dict[str, str], Seeded, str], args: list[str]) -> None:
    env, _seeded, round_id = seeded_env
    args = [a.replace("{round}", round_id) for a in args]
    documents = _documents(_newsdesk(env, *args))
    found = _assert_korea_time(documents, "newsdesk " + " ".join(args))
    if args[0] in ("runs", "articles", "story", "search", "schedule"):
        assert found, f"newsdesk {' '.join(args)}: no datetime at all in the output (the test would prove nothing)"


def test_every_api_datetime_is_korea_time(seeded_env: tuple[dict[str, str], Seeded, str]) -> None:
    from fastapi.testclient import TestClient

    from crawler.web import create_app

    _env, seeded, round_id = seeded_env
    with TestClient(create_app(seeded.db)) as client:
        for path in ("/api/runs", "/api/health", f"/api/runs/{round_id}", "/api/articles", f"/api/stories/{STORY}",
                     "/api/search?q=행정수도"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text)
            assert _assert_korea_time([response.json()], path), f"{path}: no datetime in the answer"
