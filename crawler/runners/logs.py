"""Where scheduled crawls keep their logs: <data dir>/logs/<outlet>/<timestamp>.log."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from crawler.store import data_dir


def logs_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return data_dir(env) / "logs"
