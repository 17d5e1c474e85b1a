"""Production: slower by default (a months-long crawl has no hurry)."""

LOG_LEVEL = "INFO"
DOWNLOAD_DELAY = 1.0
