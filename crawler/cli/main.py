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

from crawler.cli import analysis, articles, backfill, crawl, db, develop, health, outlet, schedule, serve
from crawler.cli.common import err, out

app = typer.Typer(
    help="newsdesk: scheduled crawling of Korean regional news into MongoDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for group in (develop, crawl, backfill, schedule, health, articles, analysis, serve):
    app.add_typer(group.app)
app.add_typer(outlet.app, name="outlet")
app.add_typer(db.db_app, name="db")
app.add_typer(db.deadletter_app, name="deadletter")


def main() -> None:
    """Run the command. A mistyped option or value is one line and exit 2, like every other bad
    input (crawler.cli.common.fail), instead of typer's framed usage block."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        err.print("aborted", highlight=False)
        raise SystemExit(1) from None
    except typer.TyperException as exc:  # typer's usage errors: bad values, unknown options, missing arguments
        context = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and context is not None:
            out.print(context.get_help(), highlight=False)  # `newsdesk` alone, or a group without a command
            raise SystemExit(2) from None
        command = context.command_path if context is not None else "newsdesk"
        message = " ".join(exc.format_message().split()) if hasattr(exc, "format_message") else str(exc)
        err.print(f"[bold red]error:[/] {command}: {message} (see {command} --help)", highlight=False, soft_wrap=True)
        raise SystemExit(getattr(exc, "exit_code", 2) or 2) from None
    raise SystemExit(code if isinstance(code, int) else 0)
