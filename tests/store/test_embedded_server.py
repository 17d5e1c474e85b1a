"""The embedded server: one per data folder, shared, restartable, never mistaken for another.

These start real `secantusd-py` processes (about a second each), whatever MONGO_URI says.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from crawler.store import EmbeddedServer, EmbeddedServerError, data_dir, mask_uri, resolve_uri
from crawler.store.embedded import LOG_FILE, STATE_FILE

REPO = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rpartition(")")[2].split()[0] != "Z"


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """A data folder whose server (if any) is stopped after the test, pass or fail."""
    path = tmp_path / "data"
    yield path
    EmbeddedServer().stop(path)


def _state(folder: Path) -> dict[str, object]:
    return json.loads((folder / STATE_FILE).read_text())


def test_start_reuse_stop(folder: Path) -> None:
    server = EmbeddedServer()
    uri = server.ensure_running(folder)
    state = _state(folder)
    assert set(state) >= {"pid", "port", "host", "uri", "started_at"}
    assert state["uri"] == uri
    pid = int(state["pid"])
    assert pid != os.getpid()
    assert (folder / "db").is_dir() and (folder / LOG_FILE).exists()

    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=5000)
    client.newsdesk.probe.insert_one({"x": 1})
    client.close()

    # A second caller (another newsdesk process, in real use) finds the same server.
    assert EmbeddedServer().ensure_running(folder) == uri
    assert _state(folder)["pid"] == pid
    status = server.status(folder)
    assert status is not None and status["running"] and status["responding"]

    assert server.stop(folder) is True
    assert not (folder / STATE_FILE).exists()
    assert not _alive(pid)
    assert server.stop(folder) is False
    assert server.status(folder) is None

    # Data survives a restart on the same folder.
    uri2 = server.ensure_running(folder)
    client = MongoClient(uri2, serverSelectionTimeoutMS=5000)
    assert client.newsdesk.probe.count_documents({"x": 1}) == 1
    client.close()


def test_uri_never_carries_a_password(folder: Path) -> None:
    uri = EmbeddedServer().ensure_running(folder)
    assert "@" not in uri
    assert mask_uri(uri) == uri
    assert re.fullmatch(r"mongodb://127\.0\.0\.1:\d+/", uri)


def test_concurrent_processes_share_one_server(folder: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from crawler.store import EmbeddedServer; "
        "print(EmbeddedServer().ensure_running(Path(sys.argv[1])))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), outputs
    uris = {out.strip() for out, _err in outputs}
    assert uris == {_state(folder)["uri"]}
    log = (folder / LOG_FILE).read_text()
    assert log.count("newsdesk pid") == 1, log


def test_stale_state_with_dead_pid_is_replaced(folder: Path) -> None:
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = {"pid": dead.pid, "host": "127.0.0.1", "port": 1, "uri": "mongodb://127.0.0.1:1/",
             "started_at": "2020-01-01T00:00:00+00:00"}  # fmt: skip
    (folder / STATE_FILE).write_text(json.dumps(stale))
    assert EmbeddedServer().status(folder)["running"] is False  # type: ignore[index]

    uri = EmbeddedServer().ensure_running(folder)
    state = _state(folder)
    assert state["pid"] != dead.pid and uri != stale["uri"]
    assert _alive(int(state["pid"]))  # type: ignore[arg-type]


def test_unreadable_state_file_is_replaced(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / STATE_FILE).write_text('{"pid": "12')  # torn by hand or a full disk
    assert EmbeddedServer().stop(folder) is False
    (folder / STATE_FILE).write_text("[]")
    uri = EmbeddedServer().ensure_running(folder)
    assert _state(folder)["uri"] == uri


def test_recycled_pid_is_neither_reused_nor_killed(folder: Path) -> None:
    """A state file naming a live process that is not our server (pid reuse after reboot)."""
    folder.mkdir(parents=True)
    stale = {"pid": os.getpid(), "host": "127.0.0.1", "port": 1, "uri": "mongodb://127.0.0.1:1/"}
    (folder / STATE_FILE).write_text(json.dumps(stale))
    assert EmbeddedServer().stop(folder) is False  # and this test process is still here
    assert not (folder / STATE_FILE).exists()

    (folder / STATE_FILE).write_text(json.dumps(stale))
    EmbeddedServer().ensure_running(folder)
    assert _state(folder)["pid"] != os.getpid()


def test_startup_failure_reports_the_log_tail(folder: Path) -> None:
    failing = [sys.executable, "-c", "import sys; print('boom: storage is corrupt'); sys.exit(3)"]
    with pytest.raises(EmbeddedServerError, match="(?s)exited during startup.*boom: storage"):
        EmbeddedServer(command=failing).ensure_running(folder, timeout=10)
    assert not (folder / STATE_FILE).exists()


def test_startup_timeout_kills_the_silent_server(folder: Path) -> None:
    silent = [sys.executable, "-c", "import time; time.sleep(120)"]
    started = time.monotonic()
    with pytest.raises(EmbeddedServerError, match="did not answer ping") as excinfo:
        EmbeddedServer(command=silent).ensure_running(folder, timeout=1.5)
    assert time.monotonic() - started < 15
    pid = int(re.search(r"pid (\d+)", str(excinfo.value)).group(1))  # type: ignore[union-attr]
    assert not _alive(pid)
    assert not (folder / STATE_FILE).exists()


def test_resolve_uri_starts_the_embedded_server(folder: Path) -> None:
    env = {"NEWSDESK_DATA_DIR": str(folder)}
    uri = resolve_uri(env)
    assert uri == _state(folder)["uri"]
    assert resolve_uri(env, start_embedded=False) == uri


def test_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert data_dir({}) == tmp_path.resolve() / "data"
    assert data_dir({"NEWSDESK_DATA_DIR": "elsewhere"}) == tmp_path.resolve() / "elsewhere"
    assert data_dir({"NEWSDESK_DATA_DIR": str(tmp_path / "x")}).is_absolute()
