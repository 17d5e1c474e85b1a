"""Only for `scrapyd-deploy`, which builds the project egg with `python setup.py bdist_egg`.

All metadata lives in pyproject.toml (packages, package data, the `scrapy` entry point that
tells scrapyd the settings module). Without this file scrapyd-deploy writes its own
setup.py into the work tree, whose `entry_points` setuptools ignores because pyproject.toml
has a [project] table, and the deployed egg then has no settings for scrapyd to load.
"""

from setuptools import setup

setup()
