"""A route's glossary path stays inside the config directory: no absolute path, no ``..``, no
symbolic link that leads out of it. Regional marketers edit routes; the files outside the config
directory (the secrets file, /etc, the home directory) are not theirs to read into a worker."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicate.config.loading import load_config
from syndicate.errors import ConfigError
from tests.helpers import sandbox_accounts, simple_route

GLOSSARY = "do_not_translate: [Syndicate]\n"


def route_with_glossary(config_dir: Callable[..., Path], glossary: str, **files: str) -> Path:
    return config_dir(accounts=sandbox_accounts("a"),
                      routes=[simple_route("r", ["de-DE"], ["a"], translation={"engine": "pseudo",
                                                                               "glossary": glossary})],
                      extra_files=files or None)


def problems(d: Path) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_config(d, environ={})
    return [str(p) for p in exc.value.problems]


@pytest.mark.parametrize("name", ["../outside.yaml", "glossaries/../../outside.yaml", "glossaries/..\\..\\x.yaml"])
def test_a_glossary_path_with_dot_dot_is_refused(config_dir: Callable[..., Path], tmp_path: Path, name: str) -> None:
    # Given a glossary file next to the config directory, and a route that climbs out to it
    (tmp_path / "outside.yaml").write_text(GLOSSARY, encoding="utf-8")
    d = route_with_glossary(config_dir, name)
    # Then validation refuses it, naming file, line and field
    [found] = [p for p in problems(d) if "translation.glossary" in p]
    assert "routes/r.yaml:" in found and "leaves the config directory" in found


def test_an_absolute_glossary_path_is_refused(config_dir: Callable[..., Path], tmp_path: Path) -> None:
    outside = tmp_path / "abs.yaml"
    outside.write_text(GLOSSARY, encoding="utf-8")
    d = route_with_glossary(config_dir, str(outside))
    assert any("translation.glossary" in p and "not a path relative to the config directory" in p
               for p in problems(d))


def test_a_symbolic_link_out_of_the_config_directory_is_refused(config_dir: Callable[..., Path],
                                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    # Given glossaries/g.yaml inside the config directory, a link to a file elsewhere
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "secrets.yaml"
    elsewhere.write_text(GLOSSARY, encoding="utf-8")
    d = route_with_glossary(config_dir, "glossaries/g.yaml")
    (d / "glossaries").mkdir(exist_ok=True)
    os.symlink(elsewhere, d / "glossaries" / "g.yaml")
    # Then it is refused: the path is resolved before it is read
    assert any("translation.glossary" in p and "outside the config directory" in p for p in problems(d))


def test_a_glossary_inside_the_config_directory_loads_even_through_a_link_that_stays_inside(
        config_dir: Callable[..., Path]) -> None:
    d = route_with_glossary(config_dir, "glossaries/current.yaml", **{"glossaries/v2.yaml": GLOSSARY})
    os.symlink(d / "glossaries" / "v2.yaml", d / "glossaries" / "current.yaml")
    cfg = load_config(d, environ={})
    assert cfg.glossary_for(cfg.routes["r"]) is not None
