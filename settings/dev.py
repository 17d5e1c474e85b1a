"""Development: everything as base, with a shorter delay so trying a spider is quick."""

DOWNLOAD_DELAY = 0.25
HTTPCACHE_ENABLED = False
