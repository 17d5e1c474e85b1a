"""Redis key names, in one place: the queue and dupefilter (scrapy-redis) and our own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_PREFIX = "newsdesk"


@dataclass(frozen=True)
class OutletKeys:
    prefix: str
    outlet: str

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{self.outlet}:{name}"

    @property
    def queue(self) -> str:
        return self._key("requests")

    @property
    def dupefilter(self) -> str:
        return self._key("dupefilter")

    @property
    def processing(self) -> str:
        """token -> encoded request, for requests a worker has taken and not finished."""
        return self._key("processing")

    @property
    def owners(self) -> str:
        """token -> "worker|score": who took it, and where it goes back in the queue."""
        return self._key("processing:owner")

    @property
    def round(self) -> str:
        """The run id of the outlet's current round (set when the scheduler seeds it)."""
        return self._key("round")


def prefix_of(settings: Any) -> str:
    return str(settings.get("NEWSDESK_REDIS_PREFIX") or DEFAULT_PREFIX)


def heartbeat_prefix(prefix: str) -> str:
    return f"{prefix}:worker:"


def keys_for(settings: Any, outlet: str) -> OutletKeys:
    return OutletKeys(prefix_of(settings), outlet)
