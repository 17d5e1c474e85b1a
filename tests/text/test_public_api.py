"""The package re-exports the names other modules import, and imports only the stdlib."""

import ast
import sys
from pathlib import Path

import crawler.text as text

EXPECTED = {
    "KST",
    "Byline",
    "LabelledDate",
    "canonicalize_url",
    "clean_paragraphs",
    "find_labelled_dates",
    "is_byline_line",
    "is_copyright_line",
    "join_body",
    "normalize_text",
    "parse_byline",
    "parse_iso_datetime",
    "parse_korean_datetime",
    "published_and_modified",
    "strip_wire_lead",
}

PACKAGE_DIR = Path(text.__file__).resolve().parent


def test_reexports() -> None:
    assert EXPECTED <= set(text.__all__)
    for name in text.__all__:
        assert hasattr(text, name), name


def test_imports_are_stdlib_or_own_package() -> None:
    """No Scrapy (or any third-party) import: these run offline and in every pipeline."""
    files = sorted(PACKAGE_DIR.glob("*.py"))
    assert len(files) >= 5
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = [node.module.split(".")[0]]
            else:
                continue
            for root in roots:
                assert root in sys.stdlib_module_names or root in {"crawler", "__future__"}, (path.name, root)
