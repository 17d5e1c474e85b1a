"""The `newsdesk` application: every command group of this package, assembled.

Command groups by the people who use them: crawl (operators and everyone: crawl, run, worker,
demo), schedule (steering the scheduler, run history), health, articles and analysis (analysts),
develop (outlet developers), serve (the dashboard), db (the embedded database, dead letters).

Importing a group must stay cheap, because every `newsdesk` invocation imports all of them,
`newsdesk --help` and a mistyped argument included: a group imports typer, rich and light
helpers at its top, and each command imports its machinery (Scrapy, Twisted, pymongo, numpy,
pyarrow, FastAPI, the outlet registry) when it runs.
"""

from __future__ import annotations

import typer

from crawler.cli import analysis, articles, crawl, db, develop, health, schedule, serve

app = typer.Typer(
    help="newsdesk: scheduled crawling of Korean regional news into MongoDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for group in (develop, crawl, schedule, health, articles, analysis, serve):
    app.add_typer(group.app)
app.add_typer(db.db_app, name="db")
app.add_typer(db.deadletter_app, name="deadletter")


def main() -> None:
    app()
