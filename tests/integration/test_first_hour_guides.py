"""The "first hour" guides tell the truth: replayed in a fresh copy, every command prints what the
guide shows (times aside), and every command the guides name exists with the options they give.

When a command's output changes on purpose, paste the new outputs with
``python -m tests.support.guides --write docs/first-hour-producer.md docs/first-hour-marketer.md``.
The ops guide needs Redis, PostgreSQL and a background worker: its outputs were pasted from a
real run, and only its commands and options are checked here.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import pytest

from syndicate.cli import main
from tests.helpers import REPO
from tests.support.guides import differences, parse

GUIDES = {name: REPO / "docs" / f"first-hour-{name}.md" for name in ("producer", "marketer", "ops")}
_SHELL = {";", "|", "||", "&&", "&", ">", "2>", ">>", "<"}


@pytest.mark.parametrize("name", ["producer", "marketer"])
def test_the_guide_prints_what_it_shows(name: str) -> None:
    # Given the guide, replayed command by command in a fresh copy of the config and examples
    # When each command's output is compared with the guide's
    problems = differences(GUIDES[name])
    # Then none differs (else: the guide or the command is wrong; see the module docstring)
    assert problems == [], "\n\n".join(problems)


def syndicate_commands(path: Path) -> list[list[str]]:
    """Each ``syndicate ...`` invocation in the guide's console blocks, cut at the shell's syntax."""
    found = []
    for step in parse(path.read_text(encoding="utf-8")):
        for cmd in step.commands:
            words = shlex.split(cmd.text.replace(";", " ; "))
            while "syndicate" in words:
                start = words.index("syndicate")
                end = next((i for i in range(start + 1, len(words)) if words[i] in _SHELL), len(words))
                found.append(words[start + 1:end])
                words = words[end:]
    return found


def unknown_options(args: list[str]) -> list[str]:
    cmd: click.Command = main
    rest = list(args)
    while isinstance(cmd, click.Group):
        assert rest and rest[0] in cmd.commands, f"no command {' '.join(args)!r}"
        cmd, rest = cmd.commands[rest[0]], rest[1:]
    known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)} | {"--help", "-h"}
    return [w for w in rest if w.startswith("-") and w != "-" and w.split("=", 1)[0] not in known]


@pytest.mark.parametrize("name", sorted(GUIDES))
def test_every_command_a_guide_names_exists_with_its_options(name: str) -> None:
    commands = syndicate_commands(GUIDES[name])
    assert commands, "the guide runs no syndicate command"
    assert {" ".join(c): unknown_options(c) for c in commands if unknown_options(c)} == {}


def test_the_guides_are_linked_from_the_readme_for_each_audience() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for path in GUIDES.values():
        assert f"(docs/{path.name})" in readme, path.name
