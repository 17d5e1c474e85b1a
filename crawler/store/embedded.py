"""The embedded SecantusDB server newsdesk starts when MONGO_URI is unset.

Why a detached background process rather than a server inside the current process: each
crawl runs in its own Scrapy subprocess (Twisted reactors do not restart) and the
scheduler lives for months, so several processes must share one server per data folder,
and the server must outlive whichever process happened to start it. The first caller
starts it; everyone else finds it through the state file ``<data_dir>/secantus.json``.

Files in the data folder:
  db/              the server's storage (WiredTiger; one server per folder)
  secantus.json    state: pid, host, port, uri, started_at (written atomically)
  secantus.lock    flock target, so two processes starting at once start one server
  secantus.log     the server's stdout/stderr (appended across restarts)
  secantusd.toml   server settings (cache size, oplog limits); created empty if missing
                   so no ~/.secantus or /etc/secantus file changes this server
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import importlib.util
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from crawler.store.uri import mask_uri

log = logging.getLogger(__name__)

STATE_FILE = "secantus.json"
LOCK_FILE = "secantus.lock"
LOG_FILE = "secantus.log"
CONFIG_FILE = "secantusd.toml"
STORAGE_DIR = "db"
SERVER_EXECUTABLE = "secantusd-py"

_CONFIG_TEMPLATE = """\
# SecantusDB settings for this newsdesk data folder (see `secantusd-py --help`).
# newsdesk passes --host, --port, --storage-path and --standalone itself; those flags
# win over this file. Useful here: [storage] cache_size = "512M", [oplog] max_entries.
"""

# Runs as `python -c _LAUNCHER log cwd argv...`: starts the server in a new session and
# exits at once, so the server is re-parented to init and never becomes a child (or a
# zombie) of a long-lived newsdesk process, nor dies with its process group.
_LAUNCHER = """\
import os, subprocess, sys
log = open(sys.argv[1], "ab")
proc = subprocess.Popen(sys.argv[3:], cwd=sys.argv[2], stdin=subprocess.DEVNULL,
                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
sys.stdout.write(str(proc.pid))
sys.stdout.flush()
os._exit(0)
"""

_PORT_ATTEMPTS = 3


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started, reached or stopped."""


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """The newsdesk data folder: NEWSDESK_DATA_DIR, else ``./data``, as an absolute path.

    Absolute because the path is recorded in the state file and compared against the
    server's command line, and crawl subprocesses may run from another directory.
    """
    raw = env.get("NEWSDESK_DATA_DIR", "").strip()
    return Path(raw or "data").expanduser().resolve()


def _utcnow_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _free_port(host: str) -> int:
    """A port the OS considers free now (a race with other binders remains; see callers)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _make_uri(host: str, port: int) -> str:
    return f"mongodb://[{host}]:{port}/" if ":" in host else f"mongodb://{host}:{port}/"


def ping(uri: str, timeout: float = 1.0) -> bool:
    """Whether a MongoDB-protocol server at `uri` answers ``ping`` within `timeout` seconds."""
    ms = max(int(timeout * 1000), 50)
    client: MongoClient[dict[str, Any]] = MongoClient(
        uri,
        directConnection=True,
        serverSelectionTimeoutMS=ms,
        connectTimeoutMS=ms,
        socketTimeoutMS=ms,
        appname="newsdesk-ping",
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _pid_running(pid: int) -> bool:
    """True if `pid` names a running (not zombie) process; reaps it if it is our child."""
    with contextlib.suppress(ChildProcessError):
        reaped, _status = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and _is_our_server will say no
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs (macOS): trust kill(0)
    # Field 3, after the parenthesised command name (which may contain spaces).
    return stat.rpartition(")")[2].split()[0] != "Z"


def _is_our_server(pid: int, storage: Path) -> bool:
    """Whether `pid` is alive and is a server on `storage` (not a recycled pid)."""
    if pid <= 0 or not _pid_running(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except PermissionError:
        return False
    except OSError:
        return True  # no procfs: the pid is alive, assume it is still ours
    return os.fsencode(str(storage)) in cmdline


def _state_pid(state: Mapping[str, Any]) -> int:
    try:
        return int(state.get("pid") or 0)
    except (TypeError, ValueError):
        return 0


def _tail(path: Path, start: int = 0, lines: int = 20) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(start)
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


class EmbeddedServer:
    """Starts, finds, and stops the one SecantusDB server of a newsdesk data folder."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        command: Sequence[str] | None = None,
        stop_timeout: float = 10.0,
    ) -> None:
        """`command` overrides the server executable (argv prefix before the flags)."""
        self.host = host
        self.command = list(command) if command else None
        self.stop_timeout = stop_timeout

    # -- public API ---------------------------------------------------------------------

    def ensure_running(self, data_dir: Path, *, timeout: float = 30) -> str:
        """Return the URI of the folder's server, starting it if it is not running.

        Reuses the server named by the state file when its process is alive and answers
        ``ping``; replaces a stale state file (dead or recycled pid). Holds the folder's
        lock throughout so concurrent callers end up with the same single server.
        """
        folder = Path(data_dir).resolve()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # the database, logs and dead letters
        with self._locked(folder, timeout):
            state = self._read_state(folder)
            if state is not None:
                uri = self._reuse(folder, state, timeout)
                if uri is not None:
                    return uri
            return self._start(folder, timeout)

    def stop(self, data_dir: Path, *, timeout: float | None = None) -> bool:
        """Stop the folder's server (SIGTERM, then SIGKILL after `timeout`); drop the state.

        Returns True if a running server was stopped, False if none was running (a stale
        state file is still removed).
        """
        folder = Path(data_dir).resolve()
        grace = self.stop_timeout if timeout is None else timeout
        if not folder.is_dir():
            return False
        with self._locked(folder, grace + 10):
            state = self._read_state(folder)
            if state is None:
                return False
            pid = _state_pid(state)
            stopped = False
            if _is_our_server(pid, folder / STORAGE_DIR):
                log.info("stopping SecantusDB pid %d (%s)", pid, folder)
                self._terminate(pid, grace)
                stopped = True
            (folder / STATE_FILE).unlink(missing_ok=True)
            return stopped

    def status(self, data_dir: Path) -> dict[str, Any] | None:
        """The recorded state plus ``running`` and ``responding``; None if never started.

        Read-only and lock-free, so it is cheap enough for a dashboard or `newsdesk status`.
        """
        folder = Path(data_dir).resolve()
        state = self._read_state(folder)
        if state is None:
            return None
        running = _is_our_server(_state_pid(state), folder / STORAGE_DIR)
        responding = running and ping(str(state.get("uri", "")), timeout=1.0)
        return {
            **state,
            "running": running,
            "responding": responding,
            "data_dir": str(folder),
            "log": str(folder / LOG_FILE),
        }

    # -- internals ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, folder: Path, timeout: float) -> Iterator[None]:
        """Exclusive flock on the folder's lock file, polled so a hung holder is reported.

        The holder may legitimately be starting the server (up to its own timeout), so
        callers pass a wait longer than that.
        """
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout + 5
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                        raise
                    if time.monotonic() > deadline:
                        raise EmbeddedServerError(
                            f"another process holds {folder / LOCK_FILE} for more than "
                            f"{timeout + 5:.0f}s; is a newsdesk process stuck starting "
                            "the embedded server?"
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    @staticmethod
    def _read_state(folder: Path) -> dict[str, Any] | None:
        path = folder / STATE_FILE
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s: %s", path, exc)
            return {}
        return state if isinstance(state, dict) else {}

    @staticmethod
    def _write_state(folder: Path, state: Mapping[str, Any]) -> None:
        """Write the state file atomically, so a reader never sees half of it."""
        path = folder / STATE_FILE
        tmp = path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        with tmp.open("w") as fh:
            json.dump(dict(state), fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def _reuse(self, folder: Path, state: Mapping[str, Any], timeout: float) -> str | None:
        """The recorded server's URI if it is alive and answers; None if the state is stale."""
        pid = _state_pid(state)
        uri = str(state.get("uri", ""))
        if not _is_our_server(pid, folder / STORAGE_DIR):
            log.info("replacing stale %s (pid %s is not running)", folder / STATE_FILE, pid)
            (folder / STATE_FILE).unlink(missing_ok=True)
            return None
        deadline = time.monotonic() + timeout
        while not ping(uri, timeout=1.0):
            if not _is_our_server(pid, folder / STORAGE_DIR):
                (folder / STATE_FILE).unlink(missing_ok=True)
                return None
            if time.monotonic() > deadline:
                raise EmbeddedServerError(
                    f"SecantusDB pid {pid} for {folder} is running but has not answered "
                    f"ping at {mask_uri(uri)} for {timeout:.0f}s. Stop it (EmbeddedServer"
                    f"().stop) and retry. Log tail ({folder / LOG_FILE}):\n"
                    f"{_tail(folder / LOG_FILE)}"
                )
            time.sleep(0.2)
        return uri

    def _server_command(self) -> list[str]:
        """The server executable: beside this interpreter, then on PATH, then ``-m``."""
        if self.command:
            return list(self.command)
        beside = Path(sys.executable).parent / SERVER_EXECUTABLE
        if beside.is_file() and os.access(beside, os.X_OK):
            return [str(beside)]
        on_path = shutil.which(SERVER_EXECUTABLE)
        if on_path:
            return [on_path]
        if importlib.util.find_spec("secantus") is not None:
            return [sys.executable, "-m", "secantus"]
        raise EmbeddedServerError(
            f"{SERVER_EXECUTABLE} not found beside {sys.executable} or on PATH; install "
            "the secantusdb package or set MONGO_URI to an existing MongoDB server"
        )

    def _start(self, folder: Path, timeout: float) -> str:
        storage = folder / STORAGE_DIR
        storage.mkdir(exist_ok=True)
        config = folder / CONFIG_FILE
        if not config.exists():
            config.write_text(_CONFIG_TEMPLATE)
        deadline = time.monotonic() + timeout
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            port = _free_port(self.host)
            argv = [
                *self._server_command(),
                "--config", str(config),
                "--host", self.host,
                "--port", str(port),
                "--storage-path", str(storage),
                "--standalone",
            ]  # fmt: skip
            uri = _make_uri(self.host, port)
            log_path = folder / LOG_FILE
            with log_path.open("a") as fh:
                fh.write(f"--- {_utcnow_iso()} newsdesk pid {os.getpid()}: {' '.join(argv)}\n")
            log_start = log_path.stat().st_size
            pid = self._spawn(argv, folder, log_path, timeout)
            log.info("started SecantusDB pid %d on %s for %s", pid, mask_uri(uri), folder)
            if self._wait_ready(pid, uri, storage, deadline):
                self._write_state(
                    folder,
                    {"pid": pid, "host": self.host, "port": port, "uri": uri,
                     "started_at": _utcnow_iso(), "storage_path": str(storage)},
                )  # fmt: skip
                return uri
            tail = _tail(log_path, log_start)
            if _is_our_server(pid, storage):  # timed out: do not leave an unrecorded server
                self._terminate(pid, 5.0)
                raise EmbeddedServerError(
                    f"SecantusDB (pid {pid}) did not answer ping at {mask_uri(uri)} within "
                    f"{timeout:.0f}s. Log tail ({log_path}):\n{tail}"
                )
            if "Address already in use" in tail and attempt < _PORT_ATTEMPTS:
                log.info("port %d was taken before SecantusDB bound it; retrying", port)
                continue
            raise EmbeddedServerError(
                f"SecantusDB exited during startup for {folder}. Log tail ({log_path}):\n{tail}"
            )
        raise AssertionError("unreachable")

    @staticmethod
    def _spawn(argv: Sequence[str], folder: Path, log_path: Path, timeout: float) -> int:
        try:
            done = subprocess.run(
                [sys.executable, "-c", _LAUNCHER, str(log_path), str(folder), *argv],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=True,
            )
            return int(done.stdout.strip())
        except (subprocess.SubprocessError, ValueError, OSError) as exc:
            stderr = getattr(exc, "stderr", "") or ""
            raise EmbeddedServerError(
                f"could not launch {argv[0]}: {exc}\n{stderr.strip()}"
            ) from exc

    @staticmethod
    def _wait_ready(pid: int, uri: str, storage: Path, deadline: float) -> bool:
        """Poll until the new server answers ping; False if it exits or time runs out."""
        while time.monotonic() < deadline:
            if ping(uri, timeout=0.5):
                return True
            if not _is_our_server(pid, storage):
                return False
            time.sleep(0.1)
        return False

    @staticmethod
    def _terminate(pid: int, grace: float) -> None:
        """SIGTERM, wait up to `grace` seconds, then SIGKILL and wait for it to go."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while _pid_running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_running(pid):
            log.warning("SecantusDB pid %d ignored SIGTERM for %.0fs; sending SIGKILL", pid, grace)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while _pid_running(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
