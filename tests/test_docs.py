"""The user documentation says what the code does: commands, options, links, the front page.

- docs/commands.md has one `### newsdesk <command path>` heading per command of the
  `newsdesk` CLI (walked from crawler.cli.app's click tree), none for a command that does
  not exist, and each command's section names every one of its `--long` options (and its
  arguments, in upper case as in the usage lines).
- README.md stays a front page: at most 160 lines, and its Quick start block is exactly
  `make demo` and `make test`.
- Every relative link in README.md, CHANGELOG.md and docs/*.md points to a file that exists
  (and, for a `#fragment` into a Markdown file, to a heading there). docs/architecture.md is
  written on another branch: while it is absent, links to it are reported as expected
  failures (xfail), never skipped silently; once it exists they are checked like any other.

No database, no network: the CLI's command tree is read, never run.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMANDS_MD = ROOT / "docs" / "commands.md"
README = ROOT / "README.md"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
HEADING = re.compile(r"^### newsdesk (?P<path>\S.*?)\s*$")
ANY_SECTION_HEADING = re.compile(r"^#{1,3} ")


# --- the CLI's command tree ------------------------------------------------------------
def _root_command() -> Any:
    import typer

    from crawler.cli import app

    return typer.main.get_command(app)


def _walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (path, command) below `command`, depth first. Duck-typed: typer may bring its
    own copy of click, whose Group and Option are not click's classes."""
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        if getattr(sub, "hidden", False):
            continue
        yield path + (name,), sub
        yield from _walk(sub, path + (name,))


def cli_commands() -> dict[str, Any]:
    return {" ".join(path): command for path, command in _walk(_root_command(), ())}


def long_options(command: Any) -> list[str]:
    """The `--long` forms of a command's options (both sides of a --x/--no-x flag), but --help."""
    names: list[str] = []
    for param in command.params:
        if getattr(param, "param_type_name", "") != "option" or getattr(param, "hidden", False):
            continue
        for opt in [*param.opts, *getattr(param, "secondary_opts", [])]:
            if opt.startswith("--") and opt != "--help" and opt not in names:
                names.append(opt)
    return names


def arguments(command: Any) -> list[str]:
    return [p.name.upper() for p in command.params if getattr(p, "param_type_name", "") == "argument"]


# --- docs/commands.md ------------------------------------------------------------------
def documented_sections(text: str) -> dict[str, str]:
    """`### newsdesk <path>` heading -> its section's text (up to the next heading of level
    1 to 3). A path documented twice is an error."""
    sections: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    in_fence = False

    def close() -> None:
        if current is not None:
            if current in sections:
                raise AssertionError(f"docs/commands.md: `### newsdesk {current}` appears twice")
            sections[current] = "\n".join(lines)

    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        if not in_fence and ANY_SECTION_HEADING.match(line):
            close()
            match = HEADING.match(line)
            current = " ".join(match["path"].split()) if match else None
            lines = []
        elif current is not None:
            lines.append(line)
    close()
    return sections


def mentions(section: str, word: str) -> bool:
    """`word` occurs as a whole token: --json does not count for --json-lines, nor
    OUTLET for OUTLETS."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", section) is not None


@pytest.fixture(scope="module")
def commands() -> dict[str, Any]:
    found = cli_commands()
    assert len(found) > 10, f"the CLI walk found only {sorted(found)}: is crawler.cli.app's tree readable?"
    return found


@pytest.fixture(scope="module")
def sections() -> dict[str, str]:
    return documented_sections(COMMANDS_MD.read_text(encoding="utf-8"))


def test_every_command_has_a_heading(commands: dict[str, Any], sections: dict[str, str]) -> None:
    missing = sorted(set(commands) - set(sections))
    assert not missing, "docs/commands.md lacks a heading for: " + ", ".join(f"`### newsdesk {m}`" for m in missing)


def test_every_heading_names_a_command(commands: dict[str, Any], sections: dict[str, str]) -> None:
    unknown = sorted(set(sections) - set(commands))
    assert not unknown, "docs/commands.md documents commands the CLI does not have: " + ", ".join(unknown)


def test_every_option_is_in_its_commands_section(commands: dict[str, Any], sections: dict[str, str]) -> None:
    missing = [
        f"newsdesk {path} {option}"
        for path, command in sorted(commands.items()) if path in sections
        for option in long_options(command) if not mentions(sections[path], option)
    ]
    assert not missing, "options not mentioned in their command's section of docs/commands.md: " + ", ".join(missing)


def test_every_argument_is_in_its_commands_section(commands: dict[str, Any], sections: dict[str, str]) -> None:
    missing = [
        f"newsdesk {path} {argument}"
        for path, command in sorted(commands.items()) if path in sections
        for argument in arguments(command) if not mentions(sections[path], argument)
    ]
    assert not missing, "arguments (upper case) not named in their command's section: " + ", ".join(missing)


def test_section_reader_sees_headings_options_and_fences() -> None:
    """The checks above are only as good as the section reader: it must split at every
    heading of level 1-3, ignore `#` lines inside code blocks, and tell --json from --json-lines."""
    text = "\n".join([
        "# newsdesk commands", "### newsdesk a", "uses --json-lines", "```sh", "# not a heading", "```",
        "## Other", "--json here belongs to no command", "### newsdesk a b", "OUTLETS and --json",
    ])
    got = documented_sections(text)
    assert set(got) == {"a", "a b"}
    assert "# not a heading" in got["a"]
    assert not mentions(got["a"], "--json") and mentions(got["a"], "--json-lines")
    assert mentions(got["a b"], "--json") and not mentions(got["a b"], "OUTLET")
    with pytest.raises(AssertionError, match="twice"):
        documented_sections("### newsdesk a\n### newsdesk a\n")


# --- README.md -------------------------------------------------------------------------
def test_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 160, f"README.md has {len(lines)} lines; it is the front door (at most 160): move detail to docs/"


def test_readme_quick_start_is_make_demo_and_make_test() -> None:
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Quick start\s*$(?P<body>.*?)(?=^#{1,2} |\Z)", text, re.M | re.S)
    assert section, "README.md has no `## Quick start` section"
    block = re.search(r"^```[^\n]*\n(?P<code>.*?)^```", section["body"], re.M | re.S)
    assert block, "README.md's Quick start has no code block"
    commands = [line.strip() for line in block["code"].splitlines() if line.strip()]
    assert commands == ["make demo", "make test"], f"Quick start commands are {commands}"


# --- links -----------------------------------------------------------------------------
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?(?P<target>[^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(?P<target>\S+?)>?(?:\s+.*)?$", re.M)


def doc_files() -> list[Path]:
    files = [README, *sorted((ROOT / "docs").glob("*.md"))]
    changelog = ROOT / "CHANGELOG.md"
    return files + [changelog] if changelog.exists() else files


def strip_code(text: str) -> str:
    """Markdown without fenced blocks and inline code, where brackets are not links."""
    text = re.sub(r"^(`{3,}|~{3,}).*?^\1\s*$", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def relative_links(path: Path) -> list[str]:
    text = strip_code(path.read_text(encoding="utf-8"))
    targets = [m["target"] for m in LINK.finditer(text)] + [m["target"] for m in REFERENCE.finditer(text)]
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I) and not t.startswith("//")]


def heading_anchors(path: Path) -> set[str]:
    """GitHub's anchors for a Markdown file's headings: lower case, punctuation dropped,
    spaces as hyphens, -1, -2 ... for repeats."""
    anchors: set[str] = set()
    counts: dict[str, int] = {}
    text = re.sub(r"^(`{3,}|~{3,}).*?^\1\s*$", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    for match in re.finditer(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$", text, re.M):
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match["title"]).lower()
        slug = "".join(c for c in title if c in " -_" or unicodedata.category(c)[0] in "LNM").replace(" ", "-")
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def link_cases() -> list[Any]:
    cases = []
    for path in doc_files():
        for target in dict.fromkeys(relative_links(path)):  # each distinct link once, in order
            file_part = target.split("#", 1)[0]
            resolved = (path.parent / file_part).resolve() if file_part else path
            marks = []
            if resolved == ARCHITECTURE and not ARCHITECTURE.exists():
                marks.append(pytest.mark.xfail(
                    reason="docs/architecture.md is written on the restructuring branch; checked once it exists",
                    strict=True,
                ))
            cases.append(pytest.param(path, target, marks=marks, id=f"{path.relative_to(ROOT)}->{target}"))
    return cases


@pytest.mark.parametrize(("source", "target"), link_cases())
def test_relative_link_points_to_an_existing_file(source: Path, target: str) -> None:
    file_part, _, fragment = target.partition("#")
    resolved = (source.parent / file_part).resolve() if file_part else source
    assert resolved.exists(), f"{source.relative_to(ROOT)} links to {target}, which does not exist"
    assert ROOT in resolved.parents or resolved == ROOT, f"{source.relative_to(ROOT)} links outside the repository: {target}"
    if fragment and resolved.suffix == ".md":
        assert fragment in heading_anchors(resolved), (
            f"{source.relative_to(ROOT)} links to {target}, but {resolved.relative_to(ROOT)} has no heading #{fragment}"
        )


def test_docs_have_links_to_check() -> None:
    """The link check reads links at all (a broken pattern would pass everything)."""
    sample = "see [ops](docs/operations.md#logs), ![plot](bench/results/soak.png), `[not](a link)`, [web](https://x.org)"
    assert LINK.findall(strip_code(sample)) and len([m for m in LINK.finditer(strip_code(sample))]) == 3
    readme_links = relative_links(README)
    assert any(link.startswith("docs/") for link in readme_links), f"README.md links no docs page: {readme_links}"
