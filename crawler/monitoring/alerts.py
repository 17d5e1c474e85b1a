"""Alerts: one message when a condition starts, one when it ends, to the log and to webhooks.

Open conditions are kept in the ``alerts`` collection (crawler.store.alerts.AlertStore), so
"once" holds across processes and restarts: only the process whose insert opened a condition
sends the alert, and only the one whose delete closed it sends the recovery.

Webhooks come from NEWSDESK_ALERT_WEBHOOKS: ``[{"url": ..., "kind": "slack" | "json"}]``
(Slack-compatible ``{"text": ...}``, or a generic JSON object). Delivery is retried with
backoff; a message still undelivered is parked in ``alert_outbox`` and retried at later checks
for NEWSDESK_ALERT_RETRY_HOURS. Nothing here raises into a crawl or the scheduler, and a
webhook URL (its path or query usually *is* the secret) is only ever logged masked.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import re
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

from crawler.monitoring.conditions import OutletHealth
from crawler.store.alerts import AlertOutbox, AlertStore
from crawler.text.dates import KST

log = logging.getLogger(__name__)

KINDS = ("slack", "json")
TITLES = {
    "silent": "silent",
    "drift": "likely selector drift",
    "failing": "failing",
    "blocked": "blocked",
    "unreachable": "unreachable",
}
MASK = "***"


# -- webhook URLs ---------------------------------------------------------------------------------
_WORD = re.compile(r"[A-Za-z][A-Za-z_-]{0,23}")


def mask_webhook_url(url: str) -> str:
    """`url` safe for a log line: scheme, host and the leading plain-word path segments stay
    (``https://hooks.slack.com/services/***``); from the first segment that looks like an id or
    a token on, the path is masked, as are a password and every query value. Unparseable input
    is masked whole."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    user = ""
    if parts.username:
        user = f"{parts.username}:{MASK}@" if parts.password is not None else f"{parts.username}@"
    kept: list[str] = []
    segments = [s for s in parts.path.split("/") if s]
    for segment in segments:
        if not _WORD.fullmatch(segment):
            kept.append(MASK)
            break
        kept.append(segment)
    path = "/" + "/".join(kept) if kept else ""
    query = "&".join(f"{p.split('=', 1)[0]}={MASK}" for p in parts.query.split("&") if p) if parts.query else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", path, query, ""))


@dataclass(frozen=True)
class Webhook:
    url: str = field(repr=False)
    kind: str = "json"

    @property
    def masked(self) -> str:
        return mask_webhook_url(self.url)

    @property
    def key(self) -> str:
        """Names the webhook in the outbox without storing its URL there."""
        return hashlib.sha256(self.url.encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"Webhook({self.masked!r}, kind={self.kind!r})"


def webhooks_from_settings(settings: Any) -> list[Webhook]:
    """NEWSDESK_ALERT_WEBHOOKS as Webhooks; an entry that is not one is logged and skipped."""
    raw = settings.get("NEWSDESK_ALERT_WEBHOOKS") or []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            log.error("NEWSDESK_ALERT_WEBHOOKS is not JSON (%s); no webhooks", exc.msg)
            return []
    if isinstance(raw, dict):
        raw = [raw]
    hooks: list[Webhook] = []
    for index, entry in enumerate(raw if isinstance(raw, (list, tuple)) else [raw]):
        if isinstance(entry, str):
            entry = {"url": entry}
        url = str(entry.get("url", "")) if isinstance(entry, dict) else ""
        kind = str(entry.get("kind", "json")).lower() if isinstance(entry, dict) else ""
        scheme = urlsplit(url).scheme.lower() if url else ""
        if scheme not in ("http", "https") or kind not in KINDS:
            log.error(
                "NEWSDESK_ALERT_WEBHOOKS[%d]: expected {\"url\": \"http(s)://...\", \"kind\": \"slack\" or \"json\"}, "
                "got url %s kind %r; skipped", index, mask_webhook_url(url) if url else "(none)", kind,
            )
            continue
        hooks.append(Webhook(url, kind))
    return hooks


# -- messages -------------------------------------------------------------------------------------
def _kst(moment: datetime | None) -> str:
    if moment is None:
        return "?"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(KST).strftime("%Y-%m-%d %H:%M KST")


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days {hours % 24} h"


@dataclass
class Message:
    event: str  # "alert" or "recovery"
    outlet: str
    outlet_name: str
    condition: str
    cause: str
    since: datetime
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    log_path: str | None = None

    @property
    def text(self) -> str:
        who = f"{self.outlet_name} ({self.outlet})" if self.outlet_name else self.outlet
        title = TITLES.get(self.condition, self.condition)
        if self.event == "alert":
            text = f"newsdesk: {who} is {title} — {self.cause}. Since {_kst(self.since)}"
        else:
            text = (f"newsdesk: {who} recovered: no longer {title} after {_duration(self.at - self.since)} "
                    f"(since {_kst(self.since)})")
        where = [f"run {self.run_id}"] if self.run_id else []
        if self.log_path:
            where.append(f"log {self.log_path}")
        return text + (f"; {', '.join(where)}" if where else "") + "."

    def payload(self, kind: str) -> dict[str, Any]:
        if kind == "slack":
            return {"text": self.text}
        return {
            "source": "newsdesk",
            "event": self.event,
            "outlet": self.outlet,
            "outlet_name": self.outlet_name,
            "condition": self.condition,
            "title": TITLES.get(self.condition, self.condition),
            "cause": self.cause,
            "detail": self.detail,
            "since": self.since.isoformat(),
            "at": self.at.isoformat(),
            "run_id": self.run_id,
            "log_path": self.log_path,
            "host": socket.gethostname(),
            "text": self.text,
        }


# -- delivery -----------------------------------------------------------------------------------------
class DeliveryError(Exception):
    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def post_json(url: str, body: dict[str, Any], timeout: float) -> None:
    """POST `body` as JSON; DeliveryError (never naming the URL) unless the answer is 2xx."""
    data = json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "newsdesk-alerts/0.1"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - operator's URL
            response.read(1024)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}", retry=exc.code >= 500 or exc.code in (408, 429)) from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"cannot connect: {_no_url(str(exc.reason), url)}", retry=True) from None
    except (TimeoutError, socket.timeout):
        raise DeliveryError(f"no answer within {timeout:g} s", retry=True) from None
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {_no_url(str(exc), url)}", retry=True) from None


def _no_url(text: str, url: str) -> str:
    return text.replace(url, mask_webhook_url(url))


class Notifier:
    """Sends messages to every webhook: retried with backoff, parked in the outbox if still
    failing, never raising."""

    def __init__(
        self,
        db: Any,
        webhooks: list[Webhook],
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 2.0,
        retry_hours: float = 24.0,
        post: Callable[[str, dict[str, Any], float], None] = post_json,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.outbox = AlertOutbox(db)
        self.webhooks = webhooks
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.retry_hours = retry_hours
        self.post = post
        self.sleep = sleep

    @classmethod
    def from_settings(cls, db: Any, settings: Any, **kwargs: Any) -> "Notifier":
        return cls(
            db,
            webhooks_from_settings(settings),
            timeout=settings.getfloat("NEWSDESK_ALERT_TIMEOUT", 10.0),
            attempts=settings.getint("NEWSDESK_ALERT_ATTEMPTS", 3),
            backoff=settings.getfloat("NEWSDESK_ALERT_BACKOFF", 2.0),
            retry_hours=settings.getfloat("NEWSDESK_ALERT_RETRY_HOURS", 24.0),
            **kwargs,
        )

    def _try(self, hook: Webhook, body: dict[str, Any], attempts: int) -> DeliveryError | None:
        error: DeliveryError | None = None
        for attempt in range(attempts):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                self.post(hook.url, body, self.timeout)
                return None
            except DeliveryError as exc:
                error = exc
            except Exception as exc:  # noqa: BLE001 - a broken sender must not break the caller
                error = DeliveryError(f"{type(exc).__name__}: {_no_url(str(exc), hook.url)}", retry=True)
            if not error.retry:
                break
        return error

    def send(self, message: Message, now: datetime | None = None) -> int:
        """Deliver to every webhook; returns how many took it."""
        now = now or datetime.now(timezone.utc)
        delivered = 0
        for hook in self.webhooks:
            body = message.payload(hook.kind)
            error = self._try(hook, body, self.attempts)
            if error is None:
                delivered += 1
                continue
            what = f"{message.event} {message.outlet}:{message.condition}"
            if not error.retry:
                log.error("alert webhook %s refused the %s: %s; not retried", hook.masked, what, error)
                continue
            log.error("alert webhook %s: the %s was not delivered after %d attempts (%s); retried at later checks",
                      hook.masked, what, self.attempts, error)
            self._park(hook, body, what, now)
        return delivered

    def _park(self, hook: Webhook, body: dict[str, Any], what: str, now: datetime) -> None:
        try:
            self.outbox.park(webhook=hook.key, masked=hook.masked, what=what, body=body, now=now,
                             retry_in=timedelta(minutes=5))
        except Exception as exc:  # noqa: BLE001
            log.error("alert outbox unavailable (%s): the %s to %s is lost", exc, what, hook.masked)

    def flush(self, now: datetime | None = None, limit: int = 20) -> int:
        """Retry parked messages whose time has come; returns how many were delivered."""
        now = now or datetime.now(timezone.utc)
        hooks = {hook.key: hook for hook in self.webhooks}
        delivered = 0
        for _ in range(limit):
            doc = self.outbox.claim_due(now, hold=timedelta(minutes=30))  # a second flush skips it
            if doc is None:
                break
            hook = hooks.get(doc.get("webhook"))
            created = doc["created"] if doc["created"].tzinfo else doc["created"].replace(tzinfo=timezone.utc)
            if hook is None or now - created > timedelta(hours=self.retry_hours):
                why = "the webhook is no longer configured" if hook is None else f"undelivered for {self.retry_hours:g} h"
                log.error("alert webhook %s: gave up on the %s (%s)", doc.get("masked"), doc.get("what"), why)
                self.outbox.remove(doc["_id"])
                continue
            error = self._try(hook, doc["body"], 1)
            if error is None:
                delivered += 1
                self.outbox.remove(doc["_id"])
                log.info("alert webhook %s: the %s was delivered on retry", hook.masked, doc.get("what"))
                continue
            tries = int(doc.get("tries", 1)) + 1
            wait = timedelta(minutes=min(60.0, 5.0 * 2 ** (tries - 1)))
            self.outbox.retry_later(doc["_id"], tries=tries, next_try=now + wait)
        return delivered


# -- conditions -> messages ---------------------------------------------------------------------------
def sync(db: Any, healths: Iterable[OutletHealth], notifier: Notifier, *, now: datetime | None = None) -> list[Message]:
    """Open and close alerts for what `healths` say; log and send the transitions."""
    now = now or datetime.now(timezone.utc)
    store = AlertStore(db)
    messages: list[Message] = []
    for health in healths:
        for condition in health.conditions.values():
            if condition.present:
                doc = store.open(health.outlet, condition, now)
                if doc is None:
                    continue
                message = Message("alert", health.outlet, health.name, condition.name, condition.cause,
                                  since=now, at=now, detail=condition.detail, run_id=condition.run_id,
                                  log_path=condition.log_path)
                log.warning("ALERT %s", message.text)
            elif condition.present is False:
                doc = store.close(health.outlet, condition.name, now)
                if doc is None:
                    continue
                opened = doc["opened"] if doc["opened"].tzinfo else doc["opened"].replace(tzinfo=timezone.utc)
                message = Message("recovery", health.outlet, health.name, condition.name,
                                  f"was: {doc.get('cause', '')}", since=opened, at=now,
                                  detail=condition.detail, run_id=(health.last_run or {}).get("id"))
                log.warning("RECOVERED %s", message.text)
            else:
                continue
            messages.append(message)
    for message in messages:
        notifier.send(message, now)
    notifier.flush(now)
    return messages
