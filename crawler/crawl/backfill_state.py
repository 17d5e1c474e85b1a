"""A backfill's window and its checkpoint: where it is, on disk, so a killed one resumes.

Why not Scrapy's JOBDIR queue (crawler/crawl/jobdir.py): a request popped from that queue is
gone from it, so what was being downloaded at a kill, or waiting in the store's batch, is
neither stored nor fetched by the resumed crawl. A scheduled crawl can leave those to the
next crawl's incremental check; a backfill must store every article of its window. So a
backfill keeps its own state, small and bounded whatever the window:

- each source (a list URL, the sitemaps, the NDSoft id walk) and the next page it reads;
- the pages read but not yet settled, with the article URLs each still owes: an article is
  settled once its item is durable in the store (the store pipeline's watermark), or once
  it ended otherwise (outside the window, dropped, failed);
- the newest and oldest dates seen (progress and ETA across a resume).

It is rewritten whole (temporary file, fsync, rename) when a list page is read and at most
once a second as articles settle. A resumed backfill asks again for the URLs its unsettled
pages still owe, minus those the store has by then, and reads on from each source's next
page: no stored article is fetched again, and a list page only if the kill fell between its
answer and the checkpoint write.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from crawler.text.dates import KST

STATE_FILE = "state.json"
VERSION = 1


class WindowError(ValueError):
    """A backfill window that cannot be crawled (bad dates, since after until, in the future)."""


@dataclass(frozen=True)
class Window:
    """Publication dates [since, until], whole days in Korea time."""

    since: date
    until: date

    @classmethod
    def parse(cls, since: str | date, until: str | date | None = None, *, today: date | None = None) -> "Window":
        """From YYYY-MM-DD strings; `until` defaults to today (Korea time). WindowError names
        the bad value."""
        today = today or datetime.now(KST).date()
        start = _day(since, "--since")
        end = _day(until, "--until") if until is not None else today
        if start > today:
            raise WindowError(f"--since {start.isoformat()} is in the future (today is {today.isoformat()} in Korea)")
        if start > end:
            raise WindowError(f"--since {start.isoformat()} is after --until {end.isoformat()}")
        return cls(start, min(end, today))

    @property
    def start(self) -> datetime:
        """The first instant of the window (aware, KST)."""
        return datetime.combine(self.since, time(0), KST)

    @property
    def end(self) -> datetime:
        """The first instant after the window (aware, KST)."""
        return datetime.combine(self.until + timedelta(days=1), time(0), KST)

    def contains(self, when: datetime) -> bool:
        return self.start <= when < self.end

    @property
    def key(self) -> str:
        return f"{self.since:%Y%m%d}-{self.until:%Y%m%d}"

    def __str__(self) -> str:
        return f"{self.since.isoformat()}..{self.until.isoformat()}"


def _day(value: str | date, option: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except (AttributeError, ValueError):
        raise WindowError(f"{option} {value!r}: expected a date as YYYY-MM-DD") from None


def job_folder(data_dir: Path, outlet: str, window: Window) -> Path:
    """Where a backfill of `outlet` over `window` keeps its checkpoint."""
    return data_dir / "jobs" / "backfill" / f"{outlet}-{window.key}"


def unfinished_window(data_dir: Path, outlet: str, since: date) -> Window | None:
    """The window of an unfinished backfill of `outlet` from `since`, whatever its until (the
    newest when there are several), or None: a backfill started without --until and resumed on
    a later day continues the one it started."""
    found = []
    for folder in (data_dir / "jobs" / "backfill").glob(f"{outlet}-{since:%Y%m%d}-*"):
        until = folder.name.rsplit("-", 1)[-1]
        if (folder / STATE_FILE).is_file() and len(until) == 8 and until.isdigit():
            try:
                found.append(Window(since, date(int(until[:4]), int(until[4:6]), int(until[6:]))))
            except ValueError:
                continue
    return max(found, key=lambda w: w.until) if found else None


class Checkpoint:
    """The state of one backfill (module docstring), loaded from and saved to `folder`."""

    def __init__(self, folder: Path, outlet: str, window: Window) -> None:
        self.folder = folder
        self.path = folder / STATE_FILE
        self.outlet = outlet
        self.window = window
        self.sources: dict[str, dict[str, Any]] = {}
        self.pages: dict[str, dict[str, Any]] = {}  # page key -> {"source", "page", "urls", "gate", "dates"}
        self.newest: datetime | None = None
        self.reached: datetime | None = None
        self.resumed = False

    @classmethod
    def open(cls, folder: Path, outlet: str, window: Window) -> "Checkpoint":
        """The saved checkpoint of this outlet and window, or a new one (not yet saved)."""
        checkpoint = cls(folder, outlet, window)
        if checkpoint.path.is_file():
            data = json.loads(checkpoint.path.read_text(encoding="utf-8"))
            if data.get("outlet") != outlet or data.get("window") != window.key:
                raise ValueError(f"{checkpoint.path} belongs to {data.get('outlet')} {data.get('window')}, not {outlet} {window.key}")
            checkpoint.sources = data.get("sources") or {}
            checkpoint.pages = data.get("pages") or {}
            checkpoint.newest = _when(data.get("newest"))
            checkpoint.reached = _when(data.get("reached"))
            checkpoint.resumed = True
        return checkpoint

    def save(self) -> None:
        """Write the whole state durably: a kill leaves the old file or the new one."""
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {
            "version": VERSION,
            "outlet": self.outlet,
            "window": self.window.key,
            "sources": self.sources,
            "pages": self.pages,
            "newest": self.newest.isoformat() if self.newest else None,
            "reached": self.reached.isoformat() if self.reached else None,
        }
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def saw(self, when: datetime) -> None:
        """A publication date met on the way back: progress keeps the newest and the oldest
        inside the window."""
        if not self.window.contains(when):
            return
        if self.newest is None or when > self.newest:
            self.newest = when
        if self.reached is None or when < self.reached:
            self.reached = when

    @property
    def complete(self) -> bool:
        """Every source read to its end and every page settled."""
        return bool(self.sources) and all(s.get("done") for s in self.sources.values()) and not self.pages


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(KST) if value else None
