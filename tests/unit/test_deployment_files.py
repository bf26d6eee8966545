"""The image is reproducible and small, and the compose file keeps config and state outside it:
constraints.txt pins every dependency, the Dockerfile installs them before the source, the build
context leaves out what the image does not need, config is mounted and state is in named volumes."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from syndicate import Runtime
from syndicate.api.app import create_app
from syndicate.errors import ConfigError
from tests.helpers import REPO

#: The Python of the image (python:3.12-slim on Linux): markers are evaluated for it.
IMAGE_ENV = {"python_version": "3.12", "python_full_version": "3.12.1", "sys_platform": "linux",
             "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
             "platform_python_implementation": "CPython", "platform_machine": "x86_64"}


def pins() -> dict[str, Version]:
    out: dict[str, Version] = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][A-Za-z0-9.+!-]*)", line)
        assert m, f"constraints.txt: {line!r} is not an exact pin (name==version)"
        name = canonicalize_name(m.group(1))
        assert name not in out, f"constraints.txt pins {name} twice"
        out[name] = Version(m.group(2))
    return out


def project_requirements() -> list[Requirement]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return [Requirement(r) for r in data["project"]["dependencies"]]


def applies(req: Requirement, extras: set[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({**IMAGE_ENV, "extra": e}) for e in (extras or {""}))


def test_constraints_are_exact_pins_without_the_project_itself() -> None:
    pinned = pins()
    assert pinned and "syndicate" not in pinned


def test_constraints_pin_every_dependency_of_the_project_within_its_range() -> None:
    # Given the runtime dependencies of pyproject.toml, and what each of them needs in turn
    pinned = pins()
    todo = [(req, set(req.extras)) for req in project_requirements()]
    seen: set[str] = set()
    missing, outside = [], []
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        # Then each is pinned, at a version its dependents accept
        if name not in pinned:
            missing.append(str(req))
            continue
        if req.specifier and not req.specifier.contains(pinned[name], prereleases=True):
            outside.append(f"{req} but constraints.txt pins {pinned[name]}")
        if name in seen:
            continue
        seen.add(name)
        for sub in metadata.requires(req.name) or []:
            child = Requirement(sub)
            if applies(child, extras):
                todo.append((child, set(child.extras)))
    assert missing == [], "run .ci/lock to pin these: " + ", ".join(sorted(missing))
    assert outside == []
    # And nothing is pinned that nothing needs (apart from the tools that build the project)
    assert set(pinned) - seen - {"pip", "setuptools", "wheel", "packaging"} == set()


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_image_installs_the_pinned_dependencies_before_it_copies_the_source() -> None:
    steps = dockerfile()
    index = {f"{k} {v}": i for i, (k, v) in enumerate(steps)}
    lock = next(i for i, (k, v) in enumerate(steps) if k == "RUN" and "-r constraints.txt" in v)
    source = index["COPY syndicate ./syndicate"]
    # Then constraints.txt alone is copied, and installed exactly (no resolving), before the source
    assert index["COPY constraints.txt ./"] < lock < source
    assert "--no-deps" in steps[lock][1]
    # And the project is installed without resolving anything again, then checked
    project = next(v for k, v in steps[source:] if k == "RUN" and "pip install" in v)
    assert "--no-deps" in project and "pip check" in project
    # And no configuration or example content is baked into the image
    copied = " ".join(v for k, v in steps if k in ("COPY", "ADD"))
    assert "config" not in copied and "examples" not in copied


def test_the_image_caps_the_malloc_arenas_of_its_threads() -> None:
    # Given the image's environment (docs/operations.md, "Memory")
    env = " ".join(v for k, v in dockerfile() if k == "ENV")
    # Then glibc gives a process's threads two arenas, not eight per core
    assert "MALLOC_ARENA_MAX=2" in env.split()


def ignored(path: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, p.removeprefix("**/"))
               or path.startswith(p.rstrip("/") + "/") for p in patterns)


def test_the_build_context_leaves_out_what_the_image_does_not_need() -> None:
    patterns = [ln.strip() for ln in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
                if ln.strip() and not ln.startswith("#")]
    for needed in ("constraints.txt", "pyproject.toml", "README.md", "syndicate/cli.py", "adapters/x.py"):
        assert not ignored(needed, patterns), needed
    for left_out in (".git/HEAD", ".venv/bin/python", "tests/conftest.py", "config/accounts.yaml",
                     "examples/content/a.yaml", "syndicate.db", "outbox/x/y.txt", "docs/api.md",
                     "syndicate/__pycache__/cli.cpython-312.pyc"):
        assert ignored(left_out, patterns), left_out


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    return data


def test_compose_mounts_the_config_and_keeps_state_in_named_volumes() -> None:
    c = compose()
    ours = {name: s for name, s in c["services"].items() if "build" in s}
    # Then every syndicate service reads the host's config directory, read-only
    for name, service in ours.items():
        assert "./config:/app/config:ro" in service["volumes"], name
        assert service["environment"]["SYNDICATE_CONFIG"] == "/app/config", name
    # And the outbox and the ledger live in named volumes
    assert {"outbox", "pg-data", "redis-data"} <= set(c["volumes"])
    assert "outbox:/var/lib/syndicate" in ours["worker"]["volumes"]
    assert ours["worker"]["environment"]["SYNDICATE_OUTBOX"].startswith("/var/lib/syndicate/")
    assert "pg-data:/var/lib/postgresql/data" in c["services"]["postgres"]["volumes"]


def test_compose_explains_the_api_refusing_to_start_without_a_token(
    config_dir: Callable[..., Path], sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the example settings (a token named ${SYNDICATE_API_TOKEN}) and no such variable
    monkeypatch.delenv("SYNDICATE_API_TOKEN", raising=False)
    # When the API is created, it refuses
    with (Runtime.create(config=REPO / "config", database_url=sqlite_url, redis_url="") as rt,
          pytest.raises(ConfigError) as refused):
        create_app(rt)
    [problem] = refused.value.problems
    # Then the compose file's comments quote that very message, and say how to start it
    comments = " ".join(ln.strip().lstrip("#").strip() for ln in
                        (REPO / "docker-compose.yml").read_text(encoding="utf-8").splitlines()
                        if ln.strip().startswith("#"))
    assert f"{problem.field}: {problem.message}" in comments
    assert "SYNDICATE_API_TOKEN=$(openssl rand -hex 24) docker compose up" in comments
