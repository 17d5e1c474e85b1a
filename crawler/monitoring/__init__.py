"""Monitoring: per-run checks (checks.py, a spidermon suite run as each crawl closes; its
verdicts go into the crawl's stats and so onto the run in `runs`)."""
