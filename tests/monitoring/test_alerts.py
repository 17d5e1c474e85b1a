"""Alerts: once per start and end across processes, webhooks retried and masked, never raising."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from scrapy.settings import Settings

from crawler.monitoring import after_run
from crawler.monitoring.alerts import (
    DeliveryError,
    Message,
    Notifier,
    Webhook,
    mask_webhook_url,
    post_json,
    sync,
    webhooks_from_settings,
)
from crawler.monitoring.conditions import Thresholds, evaluate
from crawler.store.alerts import AlertStore

ROOT = Path(__file__).resolve().parents[2]
SLACK = "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdEFGHijklMNOPqrstUVWX"


# -- masking ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (SLACK, "https://hooks.slack.com/services/***"),
        ("https://discord.com/api/webhooks/112233445566/tOkEn-value_123", "https://discord.com/api/webhooks/***"),
        ("https://alerts.example.org/hook?token=s3cr3t&channel=news", "https://alerts.example.org/hook?token=***&channel=***"),
        ("https://bot:hunter2@alerts.example.org:8443/notify", "https://bot:***@alerts.example.org:8443/notify"),
        ("http://127.0.0.1:9000/hook/0a1b2c3d4e5f", "http://127.0.0.1:9000/hook/***"),
        ("not a url", "***"),
    ],
)
def test_webhook_urls_are_masked(url, masked):
    assert mask_webhook_url(url) == masked


def test_webhooks_from_settings_skip_bad_entries_without_leaking(caplog):
    hooks = webhooks_from_settings(Settings({"NEWSDESK_ALERT_WEBHOOKS": [
        {"url": SLACK, "kind": "slack"},
        {"url": "https://alerts.example.org/in", "kind": "json"},
        "https://alerts.example.org/default-kind",
        {"url": "ftp://files.example.org/secretpath123", "kind": "json"},
        {"url": "https://alerts.example.org/x", "kind": "email"},
    ]}))
    assert [(h.kind, h.masked) for h in hooks] == [
        ("slack", "https://hooks.slack.com/services/***"),
        ("json", "https://alerts.example.org/in"),
        ("json", "https://alerts.example.org/default-kind"),
    ]
    assert "secretpath123" not in caplog.text and "NEWSDESK_ALERT_WEBHOOKS[3]" in caplog.text
    assert SLACK not in repr(hooks)
    # the environment variable is JSON text; so is a setting given as a string
    assert len(webhooks_from_settings(Settings({"NEWSDESK_ALERT_WEBHOOKS": json.dumps([{"url": SLACK, "kind": "slack"}])}))) == 1
    assert webhooks_from_settings(Settings({"NEWSDESK_ALERT_WEBHOOKS": "[{"})) == []


def test_the_environment_variable_configures_webhooks():
    code = "import settings, json; print(json.dumps(settings.NEWSDESK_ALERT_WEBHOOKS))"
    env = {"NEWSDESK_ENV": "test", "NEWSDESK_ALERT_WEBHOOKS": json.dumps([{"url": SLACK, "kind": "slack"}]),
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert json.loads(proc.stdout) == [{"url": SLACK, "kind": "slack"}]
    env["NEWSDESK_ALERT_WEBHOOKS"] = "https://not-json"
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "NEWSDESK_ALERT_WEBHOOKS: expected JSON" in proc.stderr


# -- once per start, once per end -------------------------------------------------------------------
class Recorder:
    """Stands in for the HTTP POST: records (url, body); can fail the first N calls."""

    def __init__(self, fail: int = 0, error: DeliveryError | Exception | None = None) -> None:
        self.fail = fail
        self.error = error or DeliveryError("HTTP 503", retry=True)
        self.sent: list[tuple[str, dict]] = []
        self.calls = 0

    def __call__(self, url: str, body: dict, timeout: float) -> None:
        self.calls += 1
        if self.calls <= self.fail:
            raise self.error
        self.sent.append((url, body))


def notifier(db, post, hooks=None, **kwargs):
    hooks = hooks if hooks is not None else [Webhook(SLACK, "slack"), Webhook("https://alerts.example.org/in", "json")]
    return Notifier(db, hooks, post=post, sleep=kwargs.pop("sleep", lambda s: None), **kwargs)


def test_one_alert_per_start_and_one_recovery_per_end(mongo_db, history, caplog):
    post = Recorder()
    caplog.set_level(logging.INFO)

    def check():
        health = evaluate("joongdo", history.runs, now=history.clock, thresholds=Thresholds(), name="중도일보")
        return sync(mongo_db, [health], notifier(mongo_db, post), now=history.clock)

    history.repeat(5)
    assert check() == []
    history.add(status="failed", error="crawl process exited with code 1", pages=0)
    history.add(status="failed", error="crawl process exited with code 1", pages=0)
    (alert,) = check()
    assert (alert.event, alert.condition) == ("alert", "failing")
    history.add(status="failed", pages=0)
    assert check() == []  # still failing: no second alert
    history.add()
    (recovery,) = check()
    assert (recovery.event, recovery.condition) == ("recovery", "failing")
    assert recovery.since == alert.since
    history.add()
    assert check() == []
    history.repeat(2, status="timeout", pages=0)
    assert [m.event for m in check()] == ["alert"]  # a new episode
    assert len(post.sent) == 3 * 2  # three messages, two webhooks
    slack_bodies = [body for url, body in post.sent if url == SLACK]
    assert list(slack_bodies[0]) == ["text"]
    assert slack_bodies[0]["text"].startswith("newsdesk: 중도일보 (joongdo) is failing — 2 crawls in a row failed;")
    assert "log /var/log/newsdesk/" in slack_bodies[0]["text"]
    assert slack_bodies[1]["text"].startswith("newsdesk: 중도일보 (joongdo) recovered: no longer failing after 2 h 0 min")
    generic = [body for url, body in post.sent if url != SLACK][0]
    assert {k: generic[k] for k in ("source", "event", "outlet", "outlet_name", "condition")} == {
        "source": "newsdesk", "event": "alert", "outlet": "joongdo", "outlet_name": "중도일보", "condition": "failing"}
    assert generic["detail"]["consecutive_failures"] == 2 and generic["run_id"] and generic["log_path"]
    # the log has each transition once
    assert caplog.text.count("ALERT newsdesk: 중도일보 (joongdo) is failing") == 2
    assert caplog.text.count("RECOVERED") == 1
    # history: one closed episode kept
    closed = list(mongo_db.alerts.find({"state": "closed"}))
    assert len(closed) == 1 and closed[0]["condition"] == "failing" and closed[0]["closed"]


def test_a_condition_that_cannot_be_judged_stays_open(mongo_db, history):
    post = Recorder()
    history.repeat(10)
    history.add(fallback=1.0)
    t = Thresholds()
    health = evaluate("joongdo", history.runs, now=history.clock, thresholds=t)
    assert [m.event for m in sync(mongo_db, [health], notifier(mongo_db, post))] == ["alert"]
    health.conditions["drift"].present = None  # e.g. nothing informative since
    assert sync(mongo_db, [health], notifier(mongo_db, post)) == []
    assert AlertStore(mongo_db).open_alerts(["joongdo"])[0]["condition"] == "drift"


def test_two_processes_send_each_transition_once(mongo_db, history):
    history.repeat(3)
    history.repeat(2, status="failed", pages=0)
    health = evaluate("joongdo", history.runs, now=history.clock)
    post = Recorder()
    results = []
    barrier = threading.Barrier(4)

    def process():
        barrier.wait()
        results.append(sync(mongo_db, [health], notifier(mongo_db, post, hooks=[Webhook(SLACK, "slack")])))

    threads = [threading.Thread(target=process) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(r) for r in results) == 1 and len(post.sent) == 1
    history.add()
    health = evaluate("joongdo", history.runs, now=history.clock)
    results.clear()
    threads = [threading.Thread(target=process) for _ in range(4)]
    barrier.reset()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(r) for r in results) == 1 and len(post.sent) == 2


# -- delivery ------------------------------------------------------------------------------------------
def message(now):
    return Message("alert", "joongdo", "중도일보", "drift", "likely selector drift: ...", since=now, at=now)


def test_delivery_is_retried_with_backoff(mongo_db, now):
    post, slept = Recorder(fail=2), []
    n = notifier(mongo_db, post, hooks=[Webhook(SLACK, "slack")], attempts=3, backoff=1.5, sleep=slept.append)
    assert n.send(message(now), now) == 1
    assert post.calls == 3 and slept == [1.5, 3.0]
    assert mongo_db.alert_outbox.count_documents({}) == 0


def test_a_refused_message_is_not_retried(mongo_db, now, caplog):
    post = Recorder(fail=5, error=DeliveryError("HTTP 404", retry=False))
    n = notifier(mongo_db, post, hooks=[Webhook(SLACK, "slack")], attempts=3)
    assert n.send(message(now), now) == 0
    assert post.calls == 1 and mongo_db.alert_outbox.count_documents({}) == 0
    assert "refused" in caplog.text and "hooks.slack.com/services/***" in caplog.text
    assert "abcdEFGH" not in caplog.text


def test_undelivered_messages_wait_in_the_outbox_and_go_out_later(mongo_db, now, caplog):
    post = Recorder(fail=3, error=ConnectionResetError(f"reset by {SLACK}"))
    n = notifier(mongo_db, post, hooks=[Webhook(SLACK, "slack")], attempts=3)
    assert n.send(message(now), now) == 0  # never raises, even on an unexpected exception
    assert mongo_db.alert_outbox.count_documents({}) == 1
    assert SLACK not in caplog.text and "T0123ABCD" not in caplog.text
    parked = json.dumps(mongo_db.alert_outbox.find_one(), default=str)
    assert "abcdEFGH" not in parked  # the outbox names the webhook by a hash, never its URL
    assert n.flush(now) == 0  # not due yet
    assert n.flush(now + timedelta(minutes=6)) == 1
    assert mongo_db.alert_outbox.count_documents({}) == 0
    assert post.sent[0][1] == {"text": message(now).text}


def test_the_outbox_gives_up_after_the_retry_window(mongo_db, now, caplog):
    post = Recorder(fail=100)
    n = notifier(mongo_db, post, hooks=[Webhook(SLACK, "slack")], attempts=1, retry_hours=1)
    n.send(message(now), now)
    assert n.flush(now + timedelta(minutes=10)) == 0
    assert mongo_db.alert_outbox.count_documents({}) == 1
    n.flush(now + timedelta(hours=2))
    assert mongo_db.alert_outbox.count_documents({}) == 0 and "gave up" in caplog.text


def test_posting_to_a_local_receiver(mongo_db, now, webhook_receiver):
    with webhook_receiver(fail=1) as receiver:
        hooks = [Webhook(f"{receiver.url}/slack/T000/XXXXsecret", "slack"), Webhook(f"{receiver.url}/json", "json")]
        n = Notifier(mongo_db, hooks, timeout=5, attempts=2, backoff=0.01)
        assert n.send(message(now), now) == 2
        assert receiver.hits == 3
        assert receiver.received[0] == ("/slack/T000/XXXXsecret", {"text": message(now).text})
        assert receiver.received[1][1]["event"] == "alert" and receiver.received[1][1]["condition"] == "drift"
    with pytest.raises(DeliveryError) as refused:
        post_json(f"{receiver.url}/gone", {"text": "x"}, timeout=2)  # the server is down now
    assert refused.value.retry and "/gone" not in str(refused.value)


# -- the post-run hook ------------------------------------------------------------------------------------
def test_after_run_never_raises(caplog):
    class Broken:
        def __getitem__(self, name):
            raise RuntimeError("database on fire")

    run = {"_id": "joongdo-1", "outlet": "joongdo", "stats": {"finish_reason": "finished"}}
    assert after_run(Broken(), run, Settings()) is None
    assert "health check after run joongdo-1 failed" in caplog.text
    assert after_run(Broken(), None, Settings()) is None


def test_after_run_stores_the_checks_and_alerts(mongo_db, history):
    history.repeat(5)
    for run in history.runs:
        mongo_db.runs.insert_one(run)
    post = Recorder()
    closed = history.add(status="failed", pages=0, with_checks=False)
    closed["stats"] = {"finish_reason": "shutdown", "newsdesk/checks/finish_reason": "failed: closed with 'shutdown'"}
    mongo_db.runs.insert_one(closed)
    previous = history.add(status="failed", pages=0, with_checks=False, at=closed["started"] - timedelta(minutes=30))
    mongo_db.runs.insert_one(previous)
    health = after_run(mongo_db, closed, Settings(), now=history.clock, notifier=notifier(mongo_db, post))
    assert health is not None and [c.name for c in health.open_conditions] == ["failing"]
    stored = mongo_db.runs.find_one({"_id": closed["_id"]})
    assert stored["checks"]["failed"] == ["finish_reason"] and stored["checks"]["finish_reason"] == "shutdown"
    assert len(post.sent) == 2
    assert after_run(mongo_db, closed, Settings({"NEWSDESK_HEALTH_ENABLED": False})) is None
