"""The crawl process's malloc tuning: large blocks freed between kept small ones go back to
the system with the threshold fixed, and stay in the heap with glibc's dynamic one."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.crawl.extensions import malloc as memory

needs_glibc = pytest.mark.skipif(memory._glibc() is None, reason="glibc's malloc only")

# A fresh interpreter: one large block freed (glibc's threshold rises to its size), then 1 MB
# blocks allocated between small kept ones (malloc'd, not Python's small-object arenas),
# then the large ones freed; RSS growth that stays, in MB.
_PROBE = """
import json, os, sys
from crawler.crawl.extensions import malloc as memory
if sys.argv[1] == "fixed":
    assert memory.set_mmap_threshold(128 * 1024)
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
big = bytearray(16 * 2**20); del big
before = rss()
large, kept = [], []
for n in range(60):
    large.append(bytearray(2**20))
    kept.append(bytearray(2048))
del large
print(json.dumps(rss() - before))
"""


def _kept_mb(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout)


@needs_glibc
def test_freed_large_blocks_go_back_with_the_threshold_fixed():
    assert _kept_mb("dynamic") > 40  # the failure: 60 MB freed, still resident
    assert _kept_mb("fixed") < 10


@needs_glibc
def test_extension_applies_the_setting_and_records_it():
    crawler = get_crawler(settings_dict={"NEWSDESK_MALLOC_MMAP_THRESHOLD": 128 * 1024})
    crawler.stats.open_spider()
    ext = memory.MallocTuning.from_crawler(crawler)
    assert ext.threshold == 128 * 1024
    assert crawler.stats.get_value("newsdesk/malloc_mmap_threshold") == 128 * 1024


def test_extension_off_with_zero_or_without_glibc(monkeypatch):
    with pytest.raises(NotConfigured):
        memory.MallocTuning.from_crawler(get_crawler(settings_dict={"NEWSDESK_MALLOC_MMAP_THRESHOLD": 0}))
    monkeypatch.setattr(memory, "_glibc", lambda: None)
    assert memory.set_mmap_threshold(128 * 1024) is False
    with pytest.raises(NotConfigured):
        memory.MallocTuning.from_crawler(get_crawler(settings_dict={"NEWSDESK_MALLOC_MMAP_THRESHOLD": 128 * 1024}))
    with pytest.raises(ValueError):
        memory.set_mmap_threshold(64 * 2**20)


def test_project_settings_turn_it_on():
    import settings.base as base

    assert "crawler.crawl.extensions.malloc.MallocTuning" in base.EXTENSIONS and base.NEWSDESK_MALLOC_MMAP_THRESHOLD == 128 * 1024
