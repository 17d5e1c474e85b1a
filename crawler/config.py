"""The project's Scrapy settings, for code that runs outside a crawl's own settings.

The CLI, the scheduler and monitoring read the same settings a crawl would (settings/, chosen by
NEWSDESK_ENV), with optional overrides at command-line priority.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings


def project_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "settings")
    settings = get_project_settings()
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings
