"""Run one outlet's crawl in its own process, with a time limit.

Twisted's reactor cannot be restarted inside one process, and a crawl that leaks memory or
hangs must not take the scheduler with it: each crawl is `python -m scrapy crawl OUTLET` in a
child process, with its log in a file and its final stats in a JSON file beside it. A crawl
over its time limit gets SIGTERM (Scrapy closes gracefully, flushing the store), then SIGKILL.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.scheduling.paths import logs_dir

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
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return self.ended - self.started

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


class CrawlRunner:
    """Starts crawl subprocesses and remembers the live ones so shutdown can stop them."""

    def __init__(
        self,
        *,
        time_limit: float = 25 * 60,
        grace: float = 30.0,
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.time_limit = time_limit
        self.grace = grace
        self.extra_args = list(extra_args or [])
        self.env = env
        self._children: dict[int, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def command(self, outlet: str, log_path: Path, stats_path: Path) -> list[str]:
        return [
            sys.executable, "-m", "scrapy", "crawl", outlet,
            "-s", f"LOG_FILE={log_path}",
            "-s", f"NEWSDESK_STATS_FILE={stats_path}",
            *self.extra_args,
        ]

    def run(self, outlet: str) -> CrawlResult:
        if self._stopping.is_set():
            raise RuntimeError("runner is shutting down; not starting new crawls")
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        folder = logs_dir(self.env) / outlet
        folder.mkdir(parents=True, exist_ok=True)
        log_path = folder / f"{stamp}.log"
        stats_path = folder / f"{stamp}.stats.json"
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("SCRAPY_SETTINGS_MODULE", "settings")
        started = time.time()
        logger.info("crawl %s: starting (log %s)", outlet, log_path)
        proc = subprocess.Popen(
            self.command(outlet, log_path, stats_path),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_path.with_suffix(".stderr").open("wb"),
            start_new_session=True,  # a Ctrl-C in the terminal reaches the scheduler, which stops us
        )
        with self._lock:
            self._children[proc.pid] = proc
            stopping = self._stopping.is_set()
        if stopping:  # stop_all ran between our check and the registration: do not outlive it
            self._terminate(proc)
        timed_out = False
        try:
            proc.wait(timeout=self.time_limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            logger.warning("crawl %s: over its %.0f s limit; stopping it", outlet, self.time_limit)
            self._terminate(proc)
        finally:
            with self._lock:
                self._children.pop(proc.pid, None)
        result = CrawlResult(outlet, proc.returncode, started, time.time(), log_path, stats_path, timed_out)
        if stats_path.exists():
            try:
                result.stats = json.loads(stats_path.read_text(encoding="utf-8"))
            except ValueError:
                logger.warning("crawl %s: stats file %s is not valid JSON", outlet, stats_path)
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
