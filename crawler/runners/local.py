"""Run one outlet's crawl in its own process, with a time limit.

Twisted's reactor cannot be restarted inside one process, and a crawl that leaks memory or
hangs must not take the scheduler with it: each crawl is `python -m scrapy crawl OUTLET` in a
child process, with its log in a file and its final stats in a JSON file beside it. A crawl
over its time limit, or whose lease was lost (`cancel`), gets SIGTERM (Scrapy closes
gracefully, flushing the store), then SIGKILL. The child is told our pid
(NEWSDESK_PARENT_PID) and closes itself if we die, so a killed scheduler leaves no crawl
running past its lease.

Each crawl keeps Scrapy's job state (request queue, seen requests) in `<data dir>/jobs/<outlet>`
(JOBDIR): a crawl killed with SIGKILL, or stopped at its time limit, resumes there next time
without fetching again the pages it had finished. The folder is removed once a crawl finishes,
when a crawl could not even start from it (a queue that no longer loads), and when it is older
than `jobdir_max_age` (a stale queue: the incremental crawl finds what is new instead).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from crawler.crawl.jobdir import SETTINGS as JOBDIR_SETTINGS
from crawler.runners.logs import logs_dir
from crawler.store import data_dir

logger = logging.getLogger(__name__)


@dataclass
class CrawlResult:
    outlet: str
    returncode: int | None
    started: float
    ended: float
    log_path: Path
    stats_path: Path
    timed_out: bool = False
    cancelled: bool = False
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return self.ended - self.started

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


class CrawlRunner:
    """Starts crawl subprocesses and remembers the live ones so shutdown can stop them."""

    dispatcher = "local"

    def __init__(
        self,
        *,
        time_limit: float = 25 * 60,
        grace: float = 30.0,
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
        jobdir_max_age: float = 24 * 3600,
    ) -> None:
        self.jobdir_max_age = jobdir_max_age
        self.time_limit = time_limit
        self.grace = grace
        self.extra_args = list(extra_args or [])
        self.env = env
        self._children: dict[int, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def command(
        self, outlet: str, log_path: Path, stats_path: Path, settings: Mapping[str, str] | None = None
    ) -> list[str]:
        extra = [arg for name, value in (settings or {}).items() for arg in ("-s", f"{name}={value}")]
        return [
            sys.executable, "-m", "scrapy", "crawl", outlet,
            "-s", f"LOG_FILE={log_path}",
            "-s", f"NEWSDESK_STATS_FILE={stats_path}",
            *extra,
            *self.extra_args,
        ]

    def jobdir(self, outlet: str) -> Path:
        """Where `outlet`'s crawl keeps its resumable state (Scrapy JOBDIR)."""
        return data_dir(os.environ if self.env is None else self.env) / "jobs" / outlet

    def _prepare_jobdir(self, outlet: str) -> Path:
        folder = self.jobdir(outlet)
        if folder.exists() and time.time() - folder.stat().st_mtime > self.jobdir_max_age:
            logger.info("crawl %s: job state in %s is stale; starting afresh", outlet, folder)
            shutil.rmtree(folder, ignore_errors=True)
        elif folder.exists():
            logger.info("crawl %s: resuming the interrupted crawl kept in %s", outlet, folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        return folder

    def _settle_jobdir(self, folder: Path, result: "CrawlResult") -> None:
        finished = result.ok and result.stats.get("finish_reason") == "finished"
        never_started = result.returncode not in (0, None, -signal.SIGKILL) and not result.stats.get("downloader/response_count")
        if finished or never_started:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            os.utime(folder) if folder.exists() else None

    def paths(self, outlet: str) -> tuple[Path, Path]:
        """Where the next crawl of `outlet` logs, and where it writes its final stats."""
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        folder = logs_dir(self.env) / outlet
        folder.mkdir(parents=True, exist_ok=True)
        log_path = folder / f"{stamp}.log"
        counter = 1
        while log_path.exists():  # two crawls of one outlet in one second (a run-now after a run)
            log_path = folder / f"{stamp}-{counter}.log"
            counter += 1
        return log_path, log_path.with_name(log_path.stem + ".stats.json")

    def run(
        self,
        outlet: str,
        *,
        settings: Mapping[str, str] | None = None,
        cancel: threading.Event | None = None,
        paths: tuple[Path, Path] | None = None,
    ) -> CrawlResult:
        """Crawl `outlet` in a child process and wait for it (time limit, `cancel`)."""
        if self._stopping.is_set():
            raise RuntimeError("runner is shutting down; not starting new crawls")
        log_path, stats_path = paths or self.paths(outlet)
        jobdir = self._prepare_jobdir(outlet)
        settings = {"JOBDIR": str(jobdir), **JOBDIR_SETTINGS, **(settings or {})}
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("SCRAPY_SETTINGS_MODULE", "settings")
        env["NEWSDESK_PARENT_PID"] = str(os.getpid())
        env.setdefault("PYTHONFAULTHANDLER", "1")  # a crash in C code leaves its Python stack in the .stderr file
        started = time.time()
        logger.info("crawl %s: starting (log %s)", outlet, log_path)
        with log_path.with_suffix(".stderr").open("wb") as stderr:
            proc = subprocess.Popen(
                self.command(outlet, log_path, stats_path, settings),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,  # a Ctrl-C in the terminal reaches the scheduler, which stops us
            )
        with self._lock:
            self._children[proc.pid] = proc
            stopping = self._stopping.is_set()
        if stopping:  # stop_all ran between our check and the registration: do not outlive it
            self._terminate(proc)
        timed_out = cancelled = False
        deadline = time.monotonic() + self.time_limit
        try:
            while True:
                try:
                    proc.wait(timeout=0.5)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if cancel is not None and cancel.is_set():
                    cancelled = True
                    logger.warning("crawl %s: cancelled; stopping it", outlet)
                    self._terminate(proc)
                    break
                if time.monotonic() >= deadline:
                    timed_out = True
                    logger.warning("crawl %s: over its %.0f s limit; stopping it", outlet, self.time_limit)
                    self._terminate(proc)
                    break
        finally:
            with self._lock:
                self._children.pop(proc.pid, None)
        result = CrawlResult(
            outlet, proc.returncode, started, time.time(), log_path, stats_path, timed_out, cancelled
        )
        if stats_path.exists():
            try:
                result.stats = json.loads(stats_path.read_text(encoding="utf-8"))
            except ValueError:
                logger.warning("crawl %s: stats file %s is not valid JSON", outlet, stats_path)
        self._settle_jobdir(jobdir, result)
        return result

    def _terminate(self, proc: subprocess.Popen) -> None:
        if proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop_all(self) -> None:
        """Stop accepting crawls and stop the running ones (SIGTERM, then SIGKILL)."""
        self._stopping.set()
        with self._lock:
            children = list(self._children.values())
        threads = [threading.Thread(target=self._terminate, args=(p,)) for p in children]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
