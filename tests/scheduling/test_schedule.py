"""Schedules: intervals and crontab as operators type them, merged with the outlet specs."""

from __future__ import annotations

from datetime import datetime

import pytest

from crawler.outlets import get_outlet
from crawler.outlets.timing import ScheduleError, cron_trigger, format_every, parse_every
from crawler.scheduling.schedule import Schedule, desired_schedules
from crawler.store.schedules import Override
from crawler.text.dates import KST


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("30", 1800), ("2h", 7200), ("1d", 86400), ("90s", 90), (" 45 M ", 2700)],
)
def test_every_accepts_units(text, seconds):
    assert parse_every(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-5m", "1.5h", "10w", "30s"])
def test_every_rejects_nonsense_and_too_short(text):
    with pytest.raises(ScheduleError, match="--every"):
        parse_every(text)


def test_format_every_round_trips():
    for seconds in (60, 1800, 3600, 5400, 86400, 90):
        assert parse_every(format_every(seconds), minimum=1) == seconds


def _next(expr: str, after: datetime) -> datetime:
    trigger = cron_trigger(expr)
    return trigger.get_next_fire_time(None, after)


def test_cron_is_korea_time():
    after = datetime(2026, 11, 25, 23, 50, tzinfo=KST)
    assert _next("*/20 6-23 * * *", after) == datetime(2026, 11, 26, 6, 0, tzinfo=KST)


@pytest.mark.parametrize(
    ("dow", "expected_day"),
    [("0", 29), ("7", 29), ("sun", 29), ("1", 30), ("1-5", 26), ("6", 28), ("5-7", 27), ("*/2", 26)],
)
def test_cron_day_of_week_is_crontabs_not_apschedulers(dow, expected_day):
    # 2026-11-25 is a Wednesday; crontab counts 0 (and 7) as Sunday
    after = datetime(2026, 11, 25, 12, 0, tzinfo=KST)
    assert _next(f"0 9 * * {dow}", after).day == expected_day


@pytest.mark.parametrize(
    ("expr", "message"),
    [("* * * *", "5 fields"), ("61 * * * *", "minute"), ("* * * * 8", "day of week"), ("* * * * 5-1", "backwards")],
)
def test_bad_cron_names_the_problem(expr, message):
    with pytest.raises(ScheduleError, match=message):
        cron_trigger(expr)


def test_operator_changes_win_over_the_spec():
    spec = get_outlet("joongdo")
    other = get_outlet("kwnews")
    overrides = {
        "joongdo": Override("joongdo", every_seconds=600),
        "kwnews": Override("kwnews", paused=True),
    }
    desired = desired_schedules([spec, other], overrides)
    assert desired["joongdo"] == Schedule("joongdo", every_seconds=600, source="operator")
    assert desired["kwnews"].paused and desired["kwnews"].every_seconds == other.every_minutes * 60
    assert desired_schedules([spec], {})["joongdo"].describe() == f"every {format_every(spec.every_minutes * 60)}"


def test_misfire_grace_is_one_period():
    assert Schedule("x", every_seconds=1800).misfire_grace() == 1800
    assert Schedule("x", every_seconds=10).misfire_grace() == 60
    assert Schedule("x", cron="*/20 * * * *").misfire_grace() == 1200
    assert Schedule("x", every_seconds=1800).jitter(120) == 120
    assert Schedule("x", every_seconds=120).jitter(120) == 30


SPEC_WITH_CRON = """
[demo]
name_ko = "데모일보"
domains = ["www.demo.kr"]
region = "대전"
family = "ndsoft"
list_urls = ["https://www.demo.kr/news/articleList.html"]
article_url = 'articleView\\.html\\?idxno=\\d+'
cron = "{cron}"
"""


def test_an_outlet_spec_may_schedule_by_cron(tmp_path):
    from crawler.outlets import load_registry

    path = tmp_path / "outlets.toml"
    path.write_text(SPEC_WITH_CRON.format(cron="*/20 6-23 * * *"), encoding="utf-8")
    spec = load_registry(path)["demo"]
    assert spec.cron == "*/20 6-23 * * *"
    schedule = desired_schedules([spec], {})["demo"]
    assert schedule.describe() == "cron */20 6-23 * * *" and schedule.source == "spec"
    # an operator's interval still wins over the spec's cron
    assert desired_schedules([spec], {"demo": Override("demo", every_seconds=600)})["demo"].cron is None


def test_a_bad_cron_in_a_spec_names_the_outlet(tmp_path):
    from crawler.outlets import OutletError, load_registry

    path = tmp_path / "outlets.toml"
    path.write_text(SPEC_WITH_CRON.format(cron="*/20 6-23 * *"), encoding="utf-8")
    with pytest.raises(OutletError, match="outlet 'demo': cron"):
        load_registry(path)


def test_a_stored_cron_that_never_fires_does_not_break_the_scheduler():
    """An operator's schedule stored before never-firing crons were refused still builds a
    trigger (it simply never fires) instead of stopping every outlet's sync."""
    schedule = Schedule("joongdo", cron="0 9 31 2 *", source="operator")
    trigger = schedule.trigger()
    assert trigger.get_next_fire_time(None, datetime.now(trigger.timezone)) is None
    assert schedule.period_seconds() == 86400 and schedule.misfire_grace() == 86400
    with pytest.raises(ScheduleError, match="never fires"):
        cron_trigger("0 9 31 2 *")  # what `newsdesk schedule set` and outlets.toml are told
