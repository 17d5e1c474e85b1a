"""Dead-letter replay at the start of every crawl: what earlier crawls kept on disk because
the database refused it (it was down, or restarting) is written back before new articles.

Called by the store pipeline when it opens, on its writer thread. One crawl at a time replays
(a lock file beside the dead letters; the others skip), and replay is idempotent and never
rolls an article back (crawler.store.deadletter), so concurrent crawls of other outlets are
safe. Counts: newsdesk/deadletter/replayed (articles), newsdesk/deadletter/replayed_new,
newsdesk/deadletter/replay_failed_files. A database still away leaves the files for the next
start (newsdesk/deadletter/replay_errors), and the crawl goes on.
"""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path
from typing import Any

from crawler.store import ArticleStore
from crawler.store.deadletter import pending_files, replay

logger = logging.getLogger(__name__)


def replay_dead_letters(folder: Path, store: ArticleStore, stats: Any) -> None:
    if not pending_files(folder):
        return
    with (folder / ".replay.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # another crawl is replaying them
        try:
            result = replay(folder, store)
        except Exception as exc:  # noqa: BLE001 - the database may still be away: the files stay
            stats.inc_value("newsdesk/deadletter/replay_errors")
            logger.warning("dead letters in %s not replayed yet: %s", folder, exc)
            return
    if result.articles or result.failed_files:
        stats.inc_value("newsdesk/deadletter/replayed", result.articles)
        stats.inc_value("newsdesk/deadletter/replayed_new", result.new)
        if result.failed_files:
            stats.inc_value("newsdesk/deadletter/replay_failed_files", result.failed_files)
        logger.info("dead letters: %d articles from %d files written back (%d new), %d files left",
                    result.articles, result.files, result.new, result.failed_files)
