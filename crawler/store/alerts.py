"""Open alert conditions and the webhook outbox: the ``alerts`` and ``alert_outbox`` collections.

Open conditions are documents in ``alerts``, so "once" holds across processes and restarts: a
condition is opened by inserting ``{_id: "<outlet>:<condition>"}`` (a second process trying the
same gets a duplicate key and stays quiet) and closed by deleting that document (only the
process whose delete removed it sends the recovery); the closed episode is kept as its own
document for history. Which conditions there are and what they mean is crawler.monitoring's
business (crawler.monitoring.conditions); this module only keeps them.

``alert_outbox`` parks a webhook message that could not be delivered, to be retried later
(crawler.monitoring.alerts.Notifier). It names the webhook by a hash of its URL, never by the
URL, whose path or query usually *is* the secret.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, Iterable, Protocol

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

log = logging.getLogger(__name__)

ALERTS = "alerts"
OUTBOX = "alert_outbox"


class Finding(Protocol):
    """What an open condition records (crawler.monitoring.conditions.Condition is one)."""

    name: str
    cause: str
    detail: dict[str, Any]
    run_id: str | None
    log_path: str | None


class AlertStore:
    """Open conditions (``<outlet>:<condition>``) and closed episodes, in ``alerts``."""

    def __init__(self, db: Database[Any]) -> None:
        self.collection: Collection[Any] = db[ALERTS]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("state", 1), ("outlet", 1)])

    def open(self, outlet: str, condition: Finding, now: datetime) -> dict[str, Any] | None:
        """Open `condition`; the new document if this call opened it, None if it was open."""
        doc = {
            "_id": f"{outlet}:{condition.name}",
            "outlet": outlet,
            "condition": condition.name,
            "state": "open",
            "opened": now,
            "updated": now,
            "cause": condition.cause,
            "detail": condition.detail,
            "run_id": condition.run_id,
            "log_path": condition.log_path,
        }
        try:
            self.collection.insert_one(doc)
        except DuplicateKeyError:
            self.collection.update_one(
                {"_id": doc["_id"], "state": "open"},
                {"$set": {"updated": now, "cause": condition.cause, "detail": condition.detail,
                          "run_id": condition.run_id, "log_path": condition.log_path}},
            )
            return None
        return doc

    def close(self, outlet: str, name: str, now: datetime) -> dict[str, Any] | None:
        """Close the open condition; its document if this call closed it, None otherwise."""
        doc = self.collection.find_one_and_delete({"_id": f"{outlet}:{name}", "state": "open"})
        if doc is None:
            return None
        episode = {**doc, "_id": f"{outlet}:{name}:{uuid.uuid4().hex[:12]}", "state": "closed", "closed": now}
        try:
            self.collection.insert_one(episode)
        except Exception as exc:  # noqa: BLE001 - history is nice to have; the recovery still goes out
            log.warning("alert history for %s:%s not kept: %s", outlet, name, exc)
        return doc

    def open_alerts(self, outlets: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The open conditions (of `outlets`, or all): state "open" rides the (state, outlet)
        index, so this reads what is open rather than weeks of history."""
        query: dict[str, Any] = {"state": "open"}
        if outlets is not None:
            query["outlet"] = {"$in": list(outlets)}
        return list(self.collection.find(query))


class AlertOutbox:
    """Webhook messages parked for a later try, in ``alert_outbox``."""

    def __init__(self, db: Database[Any]) -> None:
        self.collection: Collection[Any] = db[OUTBOX]

    def park(self, *, webhook: str, masked: str, what: str, body: dict[str, Any], now: datetime,
             retry_in: timedelta) -> None:
        """Keep `body` for the webhook named `webhook` (its key), first retried after `retry_in`."""
        self.collection.insert_one({
            "_id": uuid.uuid4().hex, "webhook": webhook, "masked": masked, "what": what,
            "body": body, "created": now, "tries": 1, "next_try": now + retry_in,
        })

    def claim_due(self, now: datetime, *, hold: timedelta) -> dict[str, Any] | None:
        """The oldest message due by `now`, claimed by pushing its next try `hold` on, so a
        second process flushing at the same time skips it; None when nothing is due."""
        return self.collection.find_one_and_update(
            {"next_try": {"$lte": now}}, {"$set": {"next_try": now + hold}}, sort=[("next_try", ASCENDING)],
        )

    def retry_later(self, message_id: Any, *, tries: int, next_try: datetime) -> None:
        self.collection.update_one({"_id": message_id}, {"$set": {"tries": tries, "next_try": next_try}})

    def remove(self, message_id: Any) -> None:
        self.collection.delete_one({"_id": message_id})
