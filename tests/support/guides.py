"""Run the "first hour" guides as a newcomer would, and keep their printed outputs true.

A guide is Markdown. Its ``console`` blocks hold commands (lines starting with ``$ ``), each
followed by the output it printed; a fenced block right after a ``<!-- file: PATH -->`` comment
is a file the reader writes before the next command. Other blocks (``sh``, ``yaml`` without the
comment, ``json``...) are shown, not run.

:func:`run_guide` replays a guide in a fresh directory holding a copy of the repository's
``config/`` and ``examples/`` (what a clone has), one command after another in ``bash``, with the
``syndicate`` of this environment on ``PATH``, stderr merged into stdout as a pipe shows them.
Outputs are compared after :func:`normalize` (times, and the directory, which the guides show as
``/home/you/syndicate``)::

    python -m tests.support.guides docs/first-hour-producer.md          # check
    python -m tests.support.guides --write docs/first-hour-*.md         # paste the real outputs
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: Where the guides say the reader's checkout is.
SHOWN_DIR = "/home/you/syndicate"
#: Terminal width the guides are written for.
COLUMNS = "100"

_FILE = re.compile(r"^<!-- file: (?P<path>\S+) -->$")
_FENCE = re.compile(r"^```(?P<info>\S*)\s*$")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?( [A-Z]{2,5}\b)?")
_CLOCK = re.compile(r"\b\d{2}:\d{2}(:\d{2})?( UTC| [A-Z]{2,5}\b)?")
_PROGRESS = re.compile(r"^settled: \d+/\d+$")


@dataclass
class Command:
    """One ``$ command`` of a console block and the output the guide shows for it."""

    text: str
    shown: list[str]
    #: Index of the first output line in the guide's lines, and how many lines follow.
    start: int = 0


@dataclass
class Step:
    """A file to write (``path`` and ``content``) or a console block's commands."""

    path: str | None = None
    content: str = ""
    commands: list[Command] = field(default_factory=list)


def parse(text: str) -> list[Step]:
    """The runnable steps of a guide, in order."""
    lines = text.splitlines()
    steps: list[Step] = []
    i = 0
    pending_file: str | None = None
    while i < len(lines):
        m = _FILE.match(lines[i])
        if m:
            pending_file = m["path"]
            i += 1
            continue
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        body = lines[i + 1:end]
        if pending_file is not None:
            steps.append(Step(path=pending_file, content="\n".join(body) + "\n"))
        elif fence["info"] == "console":
            step = Step()
            for k, line in enumerate(body, start=i + 1):
                if line.startswith("$ "):
                    step.commands.append(Command(line[2:], [], start=k + 1))
                elif step.commands:
                    step.commands[-1].shown.append(line)
            steps.append(step)
        pending_file = None
        i = end + 1
    return steps


def normalize(output: str, workdir: str | None = None) -> list[str]:
    """Lines to compare: the directory as the guides show it; times, progress lines and trailing
    blank lines out."""
    if workdir:
        output = output.replace(workdir, SHOWN_DIR)
    lines = [_CLOCK.sub("<time>", _TIME.sub("<time>", line)).rstrip() for line in output.splitlines()]
    lines = [line for line in lines if not _PROGRESS.match(line)]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNDICATE_", "COLUMNS"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = COLUMNS
    env["NO_COLOR"] = "1"
    return env


def run_guide(path: Path, *, workdir: Path | None = None) -> list[tuple[Command, str]]:
    """Replay ``path`` in a fresh copy of the repository's config and examples; the commands with
    what they really printed (directory as shown in the guides)."""
    owned = workdir is None
    base = Path(tempfile.mkdtemp(prefix="first-hour-")) if workdir is None else workdir
    out: list[tuple[Command, str]] = []
    try:
        for name in ("config", "examples"):
            shutil.copytree(REPO / name, base / name)
        env = _environment()
        for step in parse(path.read_text(encoding="utf-8")):
            if step.path is not None:
                target = base / step.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(step.content, encoding="utf-8")
                continue
            for cmd in step.commands:
                done = subprocess.run(["bash", "-c", cmd.text], cwd=base, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, timeout=300)
                out.append((cmd, done.stdout.replace(str(base), SHOWN_DIR)))
    finally:
        if owned:
            shutil.rmtree(base, ignore_errors=True)
    return out


def differences(path: Path) -> list[str]:
    """For each command whose real output differs from the guide's: what differs."""
    problems = []
    for cmd, real in run_guide(path):
        if normalize(real) != normalize("\n".join(cmd.shown)):
            problems.append(f"{path.name}: $ {cmd.text}\n--- the guide shows:\n" + "\n".join(cmd.shown)
                            + "\n--- it prints:\n" + real)
    return problems


def write(path: Path) -> None:
    """Replace every command's output in ``path`` by what it really prints."""
    lines = path.read_text(encoding="utf-8").splitlines()
    results = run_guide(path)
    for cmd, real in reversed(results):  # from the end, so earlier line numbers stay valid
        real_lines = real.rstrip("\n").splitlines() if real.strip() else []
        lines[cmd.start:cmd.start + len(cmd.shown)] = [line.rstrip() for line in real_lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="paste the real outputs into the guides")
    parser.add_argument("guides", nargs="+", type=Path)
    args = parser.parse_args(argv)
    failed = 0
    for guide in args.guides:
        if args.write:
            write(guide)
            print(f"wrote {guide}")
            continue
        for problem in differences(guide):
            failed += 1
            print(problem, end="\n\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
