"""Helpers for the worker processes a crawl starts (the page parser's, the
search drain at its end)."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor


def die_with_parent(parent: int) -> None:
    """Make this process die with `parent` (Linux PR_SET_PDEATHSIG): a crawl killed with
    SIGKILL must not leave its workers running. Call first thing in the worker."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the worker ends when its queue closes
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _start_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the crawl, which stops its workers
    die_with_parent(parent)


def worker_pool(processes: int) -> ProcessPoolExecutor:
    """A pool of fresh (spawned: no copy of the reactor's threads) worker processes that
    leave Ctrl-C to the crawl and die with it."""
    return ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(os.getpid(),))
