"""Scrapy settings for newsdesk, chosen by NEWSDESK_ENV (dev, prod, test; default dev).

Scrapy loads this module (scrapy.cfg: default = settings). Every name from base.py is
imported, then the overlay for the environment replaces what differs. Keeping overlays as
small modules means `scrapy crawl NAME`, the CLI and the tests all see the same settings.
"""

import os as _os

from settings.base import *  # noqa: F401,F403

_ENV = _os.environ.get("NEWSDESK_ENV", "dev").strip().lower() or "dev"

if _ENV == "dev":
    from settings.dev import *  # noqa: F401,F403
elif _ENV == "prod":
    from settings.prod import *  # noqa: F401,F403
elif _ENV == "test":
    from settings.test import *  # noqa: F401,F403
elif _ENV == "distributed":
    from settings.prod import *  # noqa: F401,F403
else:
    raise ValueError(
        f"NEWSDESK_ENV={_ENV!r} is not a known environment; expected one of: dev, prod, test, distributed"
    )

# Distributed mode (scrapy-redis) on top of any environment; tests switch it on explicitly.
if (
    _ENV == "distributed"
    or _os.environ.get("NEWSDESK_DISTRIBUTED", "").strip().lower() in ("1", "true", "yes", "on")
    or (_ENV in ("dev", "prod") and _os.environ.get("REDIS_URL", "").strip())
):
    from settings.distributed import *  # noqa: F401,F403

NEWSDESK_ENV = _ENV
