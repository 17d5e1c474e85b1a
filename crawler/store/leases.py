"""Leases in MongoDB: at most one holder per name at a time, taken over once it expires.

Two `newsdesk run` processes on one database (a second copy started by mistake, or two
machines) must never crawl the same outlet at once. Each crawl holds the lease
``crawl:<outlet>`` while it runs and renews it with a heartbeat; a holder that dies (kill -9,
a lost machine) stops renewing, its lease expires, and the next scheduler takes it over.

The whole protocol is one atomic document update on ``_id``: acquiring is an upsert that only
matches a lease which is expired or already ours, so a live lease held by someone else makes
the upsert collide on the unique ``_id`` (DuplicateKeyError), which means "held". Expiry is
judged by the clocks of the machines taking part; keep them in NTP sync and the TTL well above
any plausible skew (the default is 90 s).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

log = logging.getLogger(__name__)

LEASES = "leases"
DEFAULT_TTL = timedelta(seconds=90)
CRAWL_LEASE_PREFIX = "crawl:"  # crawl:<outlet>, held while the outlet is crawled
SCHEDULER_LEASE_PREFIX = "scheduler:"  # scheduler:<owner>, renewed by each live `newsdesk run`


def lease_name(outlet: str) -> str:
    """The lease a crawl of `outlet` holds, whoever runs it (scheduler, `newsdesk crawl`, worker round)."""
    return f"{CRAWL_LEASE_PREFIX}{outlet}"


def make_owner(role: str = "scheduler") -> str:
    """An owner id naming the machine and process, unique even if a pid is reused."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Lease:
    name: str
    owner: str
    expires: datetime
    previous_owner: str | None = None  # set when an expired lease was taken over
    previous_expired: datetime | None = None


class LeaseStore:
    """Acquire, renew and release named leases in the ``leases`` collection."""

    def __init__(self, db: Database[Any], *, ttl: timedelta = DEFAULT_TTL) -> None:
        if ttl <= timedelta(0):
            raise ValueError(f"lease ttl must be positive, got {ttl}")
        self.collection: Collection[Any] = db[LEASES]
        self.ttl = ttl

    def ensure_indexes(self) -> None:
        self.collection.create_index("expires")

    def acquire(self, name: str, owner: str, *, info: dict[str, Any] | None = None) -> Lease | None:
        """Take the lease if it is free, expired or already ours; None if someone else holds it."""
        now = utcnow()
        expires = now + self.ttl
        fields = {"owner": owner, "acquired": now, "heartbeat": now, "expires": expires, **(info or {})}
        try:
            before = self.collection.find_one_and_update(
                {"_id": name, "$or": [{"expires": {"$lt": now}}, {"owner": owner}]},
                {"$set": fields, "$inc": {"generation": 1}},
                upsert=True,
                return_document=ReturnDocument.BEFORE,
            )
        except DuplicateKeyError:
            return None
        if before and before.get("owner") != owner:
            log.warning(
                "lease %s: taken over from %s, whose lease expired at %s",
                name, before.get("owner"), before.get("expires"),
            )
            return Lease(name, owner, expires, before.get("owner"), before.get("expires"))
        return Lease(name, owner, expires)

    def renew(self, name: str, owner: str) -> bool:
        """Push the expiry on; False if the lease is no longer ours (expired and taken)."""
        now = utcnow()
        result = self.collection.update_one(
            {"_id": name, "owner": owner},
            {"$set": {"heartbeat": now, "expires": now + self.ttl}},
        )
        return result.matched_count == 1

    def release(self, name: str, owner: str) -> bool:
        """Give the lease up now (only if still ours) so the next run need not wait for expiry."""
        return self.collection.delete_one({"_id": name, "owner": owner}).deleted_count == 1

    def holder(self, name: str) -> dict[str, Any] | None:
        """The live lease of `name`, or None when it is free or expired."""
        return self.collection.find_one({"_id": name, "expires": {"$gte": utcnow()}})

    def live(self, prefix: str = "") -> list[dict[str, Any]]:
        """All unexpired leases whose name starts with `prefix`, by name (a range of the
        indexed `expires`)."""
        docs = self.collection.find({"expires": {"$gte": utcnow()}})
        return sorted((d for d in docs if str(d["_id"]).startswith(prefix)), key=lambda d: str(d["_id"]))

    def crawling(self) -> dict[str, dict[str, Any]]:
        """The live crawl leases by outlet: who crawls what right now."""
        return {str(d["_id"]).removeprefix(CRAWL_LEASE_PREFIX): d for d in self.live(CRAWL_LEASE_PREFIX)}

    def schedulers(self) -> list[dict[str, Any]]:
        """The presence leases of the `newsdesk run` schedulers alive on this database."""
        return self.live(SCHEDULER_LEASE_PREFIX)


class LeaseKeeper:
    """Renews a held lease from a daemon thread until stopped; sets `lost` if it is taken.

    The crawl runner watches `lost` and stops its crawl: a lease we no longer hold means
    another scheduler may already be crawling the same outlet.
    """

    def __init__(
        self,
        store: LeaseStore,
        lease: Lease,
        *,
        every: float | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.lease = lease
        self.on_lost = on_lost
        self.every = every if every is not None else max(1.0, store.ttl.total_seconds() / 3)
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease {lease.name}", daemon=True)

    def __enter__(self) -> "LeaseKeeper":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        try:
            self.store.release(self.lease.name, self.lease.owner)
        except PyMongoError as error:  # it expires by itself; the next run waits at most one TTL
            log.warning("lease %s: could not release (%s); it will expire", self.lease.name, error)

    def _run(self) -> None:
        failures = 0
        while not self._stop.wait(self.every):
            try:
                if not self.store.renew(self.lease.name, self.lease.owner):
                    log.error("lease %s: lost to another owner; stopping the work it guarded", self.lease.name)
                    self._lose()
                    return
                failures = 0
            except PyMongoError as error:
                failures += 1
                # The database is away: keep trying while the lease is still valid; once it
                # may have expired, someone else may hold it, so the work must stop.
                elapsed = failures * self.every
                log.warning("lease %s: renewal failed (%s), %d time(s)", self.lease.name, error, failures)
                if elapsed >= self.store.ttl.total_seconds() - self.every:
                    self._lose()
                    return

    def _lose(self) -> None:
        self.lost.set()
        if self.on_lost is not None:
            try:
                self.on_lost()
            except Exception:  # noqa: BLE001 - the flag is set either way
                log.exception("lease %s: on_lost callback failed", self.lease.name)
