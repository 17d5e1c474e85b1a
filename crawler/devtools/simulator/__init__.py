"""A simulated web of Korean regional news sites on 127.0.0.1, for fault tests and benchmarks.

N outlets x M articles in the real page templates of the supported CMS families (cut from the
saved pages under tests/fixtures), with list pages, RSS, new articles appearing over time,
syndicated copies across outlets, corrections, and faults switched on per outlet.
`python -m crawler.devtools.simulator --help` serves it; `crawler.devtools.simulator.static` writes it as files
for nginx.
"""

from crawler.devtools.simulator.corpus import News, NewsConfig, SimArticle
from crawler.devtools.simulator.faults import KINDS, Fault, Switchboard, parse_faults
from crawler.devtools.simulator.server import Simulator, pick_outlets
from crawler.devtools.simulator.site import SimulatedOutlet

__all__ = ["KINDS", "Fault", "News", "NewsConfig", "SimArticle", "SimulatedOutlet", "Simulator", "Switchboard",
           "parse_faults", "pick_outlets"]
