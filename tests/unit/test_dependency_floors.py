"""The dependency floors in pyproject.toml leave out versions with known advisories."""

from __future__ import annotations

import tomllib
from importlib.metadata import version

import pytest
from packaging.requirements import Requirement

from tests.helpers import REPO

#: Newest vulnerable version of each package, and the advisory (docs/security.md lists them).
VULNERABLE = [
    ("requests", "2.31.0", "CVE-2024-35195"),
    ("requests", "2.32.3", "CVE-2024-47081"),
    ("requests", "2.32.5", "CVE-2026-25645"),
    ("starlette", "0.39.2", "CVE-2024-47874"),
    ("starlette", "0.47.1", "CVE-2025-54121"),
    ("starlette", "0.49.0", "CVE-2025-62727"),
    ("starlette", "1.0.0", "CVE-2026-48710"),
    ("starlette", "1.3.0", "GHSA-82w8-qh3p-5jfq"),
    ("h11", "0.15.0", "CVE-2025-43859"),
]


def _requirements() -> dict[str, Requirement]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    reqs = [Requirement(r) for r in data["project"]["dependencies"]]
    return {r.name.lower(): r for r in reqs}


@pytest.mark.parametrize(("package", "vulnerable", "advisory"), VULNERABLE)
def test_the_floor_excludes_a_version_with_a_known_advisory(package: str, vulnerable: str, advisory: str) -> None:
    # Given the project's requirement on the package / Then the vulnerable version does not satisfy it
    req = _requirements()[package]
    assert not req.specifier.contains(vulnerable), f"{package} {vulnerable} ({advisory}) is allowed"
    # And the installed version does
    assert req.specifier.contains(version(package))
