"""Polite defaults, and the environment overlays."""

from __future__ import annotations

import subprocess
import sys

import settings.base as base


def test_polite_defaults():
    assert base.ROBOTSTXT_OBEY is True
    assert base.AUTOTHROTTLE_ENABLED is True
    assert "newsdesk" in base.USER_AGENT and "mailto:" in base.USER_AGENT
    assert base.CONCURRENT_REQUESTS_PER_DOMAIN <= 8
    assert 429 in base.RETRY_HTTP_CODES and 503 in base.RETRY_HTTP_CODES
    assert base.DOWNLOAD_MAXSIZE and base.DOWNLOAD_MAXSIZE <= 16 * 1024 * 1024
    assert base.TELNETCONSOLE_ENABLED is False and base.REMOTE_CONTROL_ENABLED is False
    assert base.EXTENSIONS["scrapy.extensions.telnet.TelnetConsole"] is None
    assert base.DOWNLOADER_MIDDLEWARES["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert list(base.ITEM_PIPELINES.values()) == [100, 150, 200, 300, 800]


def test_scrapy_sees_the_overlay_for_the_environment():
    code = "from scrapy.utils.project import get_project_settings as g; s=g(); print(s['NEWSDESK_ENV'], s.getbool('AUTOTHROTTLE_ENABLED'))"
    for env, expected in (("test", "test False"), ("prod", "prod True"), ("dev", "dev True")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={"NEWSDESK_ENV": env, "SCRAPY_SETTINGS_MODULE": "settings", "PATH": ""}, timeout=60)
        assert out.stdout.strip() == expected, out.stderr


def test_unknown_environment_is_refused():
    out = subprocess.run([sys.executable, "-c", "import settings"], capture_output=True, text=True,
                         env={"NEWSDESK_ENV": "staging", "PATH": ""}, timeout=60)
    assert out.returncode != 0 and "NEWSDESK_ENV='staging' is not a known environment" in out.stderr
