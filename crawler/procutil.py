"""Helpers for the worker processes a crawl starts (the page parser's, the store's writer)."""

from __future__ import annotations

import os


def die_with_parent(parent: int) -> None:
    """Make this process die with `parent` (Linux PR_SET_PDEATHSIG): a crawl killed with
    SIGKILL must not leave its workers running. Call first thing in the worker."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the worker ends when its queue closes
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
