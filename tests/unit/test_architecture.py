"""The layers of ARCHITECTURE.md hold: every import in syndicate/ points down, and adapters use the
channel kit and the base alone."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO

#: Top-level parts of syndicate/, from the bottom up (ARCHITECTURE.md, "The layers"). Parts on one
#: line share a layer and may not import each other.
LAYERS: list[tuple[str, ...]] = [
    ("errors",),
    ("base",),
    ("channels",),
    ("model",),
    ("ledger",),
    ("services",),
    ("intake",),
    ("localization",),
    ("publishing",),
    ("operations",),
    ("config",),
    ("api", "worker"),
    ("runtime",),
    ("cli", "__init__"),
    ("__main__",),
]
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, absolute module)`` of every import of ``path``, lazy ones and ``TYPE_CHECKING`` included."""
    module = _module(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:  # ``from . import metrics`` names a module
                yield node.lineno, f"{target}.{alias.name}"


def _part(module: str) -> str | None:
    """The top-level part of syndicate that ``module`` belongs to (``syndicate`` itself: ``__init__``)."""
    parts = module.split(".")
    if parts[0] != "syndicate":
        return None
    return "__init__" if len(parts) == 1 else parts[1]


CORE = sorted(p for p in (REPO / "syndicate").rglob("*.py"))


def test_every_part_of_syndicate_has_a_layer() -> None:
    # Given the files of syndicate/ / Then each belongs to a part ARCHITECTURE.md places
    parts = {_part(_module(p)) for p in CORE}
    assert parts <= set(RANK), sorted(parts - set(RANK))


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(REPO)))
def test_imports_point_down_the_layers(path: Path) -> None:
    # Given a module of syndicate/ and its layer
    here = _part(_module(path))
    assert here is not None
    upward = []
    for line, target in _imports(path):
        there = _part(target)
        if there is None or there == here or there not in RANK:
            continue
        # Then everything it imports from another part lies in a lower layer
        if RANK[there] >= RANK[here]:
            upward.append(f"{path.name}:{line} imports {target} ({there} is not below {here})")
    assert not upward, upward


@pytest.mark.parametrize("path", sorted((REPO / "adapters").glob("*.py")), ids=lambda p: p.name)
def test_adapters_use_the_channel_kit_and_the_base_alone(path: Path) -> None:
    # Given an adapter / Then what it takes from syndicate comes from the kit, the base or the errors
    allowed = {"channels", "base", "errors"}
    used = {(line, t) for line, t in _imports(path) if _part(t) not in (None, *allowed)}
    assert not used, sorted(used)


def test_the_core_never_imports_a_concrete_adapter() -> None:
    # Given every module of syndicate/ / Then none imports the adapters package: the registry finds them
    found = [(str(p.relative_to(REPO)), line) for p in CORE for line, t in _imports(p)
             if t == "adapters" or t.startswith("adapters.")]
    assert not found, found
