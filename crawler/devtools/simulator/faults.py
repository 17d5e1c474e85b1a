"""Faults the simulator can serve, switched on per outlet.

`outlet:kind[:rate]` on the command line (`jnilbo:5xx:0.3,busan:slow`); `rate` is the share of
the outlet's article pages affected (chosen by a hash of the path, so the same pages every
run), default 0.3. Kinds:

  5xx        the page answers 500/502/503/504 to its first `times` requests (a burst), then 200
  429        429 Too Many Requests with Retry-After: `retry_after` seconds, first `times` requests
  slow       the answer waits `delay` seconds
  timeout    the answer waits `hang` seconds (longer than the crawler's DOWNLOAD_TIMEOUT), first
             `times` requests
  reset      the connection is reset (TCP RST) before any answer, first `times` requests
  truncated  the HTML stops halfway (a dropped upstream connection behind a proxy)
  malformed  tag soup: closing tags dropped, stray markup before the body
  charset    the Content-Type names the wrong charset (EUC-KR pages said to be UTF-8 and back)
  redirect   a redirect loop: each answer redirects to the same page with another loop counter
  oversized  the page is padded past `size` bytes (default 9 MB, over DOWNLOAD_MAXSIZE)
  empty      200 with an empty body
  robots     robots.txt disallows the article pages (rate is ignored)
"""

from __future__ import annotations

import threading
import zlib
from collections import Counter
from dataclasses import dataclass, field

KINDS = ("5xx", "429", "slow", "timeout", "reset", "truncated", "malformed", "charset", "redirect",
         "oversized", "empty", "robots")


@dataclass(frozen=True)
class Fault:
    kind: str
    rate: float = 0.3
    times: int = 1  # failed attempts per page, for the kinds that recover
    delay: float = 0.5  # slow
    hang: float = 3.0  # timeout
    retry_after: int = 1  # 429
    size: int = 9 * 1024 * 1024  # oversized

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; expected one of: {', '.join(KINDS)}")
        if not 0 < self.rate <= 1:
            raise ValueError(f"fault {self.kind}: rate {self.rate} must be in (0, 1]")

    def affects(self, path: str) -> bool:
        return self.kind == "robots" or zlib.crc32(path.encode("utf-8")) % 1000 < self.rate * 1000


def parse_faults(text: str, known_outlets: set[str] | None = None) -> dict[str, list[Fault]]:
    """`outlet:kind[:rate],...` -> {outlet: [Fault, ...]}; ValueError names the bad entry."""
    result: dict[str, list[Fault]] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        pieces = entry.split(":")
        if len(pieces) not in (2, 3):
            raise ValueError(f"fault {entry!r}: expected outlet:kind[:rate]")
        outlet, kind = pieces[0], pieces[1]
        if known_outlets is not None and outlet not in known_outlets:
            raise ValueError(f"fault {entry!r}: outlet {outlet!r} is not simulated ({', '.join(sorted(known_outlets))})")
        try:
            rate = float(pieces[2]) if len(pieces) == 3 else 0.3
        except ValueError:
            raise ValueError(f"fault {entry!r}: rate {pieces[2]!r} is not a number") from None
        result.setdefault(outlet, []).append(Fault(kind, rate))
    return result


@dataclass
class Switchboard:
    """Which faults each outlet serves, and what was served (for tests and benchmarks)."""

    faults: dict[str, list[Fault]] = field(default_factory=dict)
    served: Counter = field(default_factory=Counter)  # (outlet, kind) -> responses faulted
    _attempts: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, outlet: str, *faults: Fault) -> None:
        with self._lock:
            self.faults[outlet] = list(faults)

    def clear(self, outlet: str | None = None) -> None:
        with self._lock:
            if outlet is None:
                self.faults.clear()
            else:
                self.faults.pop(outlet, None)

    def for_request(self, outlet: str, path: str, kinds: tuple[str, ...] | None = None) -> Fault | None:
        """The fault to serve for this request of `path`, counting attempts; None = answer normally."""
        with self._lock:
            faults = [f for f in self.faults.get(outlet, ()) if kinds is None or f.kind in kinds]
            if not faults:
                return None
            self._attempts[(outlet, path)] += 1
            attempt = self._attempts[(outlet, path)]
            for fault in faults:
                if not fault.affects(path):
                    continue
                if fault.kind in ("5xx", "429", "timeout", "reset") and attempt > fault.times:
                    continue
                self.served[(outlet, fault.kind)] += 1
                return fault
        return None
