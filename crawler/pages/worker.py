"""A parse worker process: pages in on one pipe, parsed Articles out on another.

Started by crawler.crawl.parse_pool (never by hand) as `python -m crawler.pages.worker PARENT_PID`,
with the crawl's sys.path as its PYTHONPATH (so what the crawl can import, the worker can
unpickle). Frames are a 4-byte big-endian length and a pickle:
- in, on fd 3: (seq, outlet, url, html, content_type, steps), steps being the pipelines'
  PrepareSteps (crawler/prepare.py) the article then goes through;
- out, on fd 4: (seq, True, article) or (seq, False, exception, traceback text).
Pages are answered in the order they came. The worker exits when fd 3 closes (the pool is
closing, or the crawl is gone), dies with the crawl (PR_SET_PDEATHSIG) and leaves Ctrl-C to
it. stdout and stderr are the crawl's, for logs and faulthandler's dumps; never the frames.

Like crawler/pages/parse.py, which does the parsing, this module imports neither Scrapy nor
Twisted; what the worker imports beyond that is what unpickling a page's outlet, page class
and steps imports.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import traceback
from typing import Any, BinaryIO

from crawler.processes import die_with_parent

from crawler.pages.parse import parse_page

HEADER = struct.Struct("!I")
REQUESTS_FD = 3  # the pool writes, the worker reads
RESULTS_FD = 4  # the worker writes, the pool reads
MAX_FRAME = 256 * 2**20  # a page is at most DOWNLOAD_MAXSIZE (8 MB) plus its outlet spec


def frame(payload: Any) -> bytes:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def read_frame(stream: BinaryIO) -> Any | None:
    """The next frame's object; None at the end of the stream."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes: the pipe is out of step")
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


def answer(request: tuple[Any, ...]) -> tuple[Any, ...]:
    seq, outlet, url, html, content_type, steps = request
    try:
        return (seq, True, parse_page(outlet, url, html, content_type, steps))
    except Exception as exc:  # noqa: BLE001 - the page's error goes back to the spider that asked
        text = traceback.format_exc()
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an exception that cannot cross processes: its text can
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        return (seq, False, exc, text)


def serve(requests: BinaryIO, results: BinaryIO) -> None:
    while True:
        request = read_frame(requests)
        if request is None:
            return
        results.write(frame(answer(request)))
        results.flush()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the crawl, which closes the pipe
    die_with_parent(int(sys.argv[1]))
    with os.fdopen(REQUESTS_FD, "rb") as requests, os.fdopen(RESULTS_FD, "wb") as results:
        serve(requests, results)


if __name__ == "__main__":
    main()
