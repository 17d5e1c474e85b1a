"""The `newsdesk` command: a typer application whose command groups live in this package.

`crawler.cli.main` assembles the application; each other module holds one group of commands
for one kind of user (crawling, scheduling, health, analysis, the dashboard, the database).
"""

from crawler.cli.main import app, main

__all__ = ["app", "main"]
