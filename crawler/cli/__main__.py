"""`python -m crawler.cli ...` is the `newsdesk` command."""

from crawler.cli.main import main

main()
