"""The bad-input corpus (``tests/reliability/corpus.py``): every hostile item and config file gets a
clear error, or a safe output on every channel; a refused item leaves nothing in the ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from syndicate import ContentError, Runtime, submit
from syndicate.base.inputs import InputError, load_json, load_yaml
from syndicate.config.loading import load_config
from syndicate.errors import ConfigError
from syndicate.ledger.schema import events, items, localizations, publications
from syndicate.model.config import Config
from syndicate.model.item import channel_names, load_item_bytes, parse_item
from tests.helpers import item_data, sandbox_accounts, simple_route, write_config
from tests.reliability.corpus import CONFIG_CASES, ITEM_CASES, ConfigCase, ItemCase
from tests.reliability.safety import render_config, render_everywhere, unsafe

REFUSED = [c for c in ITEM_CASES if c.outcome == "refused"]
ACCEPTED = [c for c in ITEM_CASES if c.outcome == "accepted"]


@pytest.fixture(scope="module")
def render_cfg(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return render_config(tmp_path_factory.mktemp("render") / "config")


@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    base = tmp_path_factory.mktemp("intake")
    cfg = write_config(base / "config")
    with Runtime.create(config=cfg, database_url=f"sqlite:///{base / 'ledger.db'}", redis_url="") as rt:
        yield rt


def stored(rt: Runtime) -> tuple[int, ...]:
    with rt.ledger.engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (items, publications, localizations, events))


def test_the_corpus_holds_more_than_200_hostile_inputs() -> None:
    assert len(ITEM_CASES) + len(CONFIG_CASES) >= 200
    assert len({c.name for c in ITEM_CASES}) == len(ITEM_CASES)
    assert len({c.name for c in CONFIG_CASES}) == len(CONFIG_CASES)


@pytest.mark.parametrize("case", REFUSED, ids=[c.name for c in REFUSED])
def test_a_hostile_item_is_refused_naming_where_the_field_and_why_and_nothing_is_stored(
    case: ItemCase, intake: Runtime
) -> None:
    source = f"{case.name}.{case.fmt}"
    # When a producer's bytes are read as an item / Then it is refused with a ContentError, nothing else
    known = channel_names(intake.config.registry.names(), intake.config.accounts)
    with pytest.raises(ContentError) as refused:
        load_item_bytes(case.raw, source, channels=known)
    message = str(refused.value)
    # naming the file or the item, the field, and the reason
    assert source in message or "'item-1'" in message, message
    if case.field:
        assert case.field in message, message
    if case.reason:
        assert case.reason in message, message
    # And when the same data is submitted through the producer API, nothing at all is stored
    try:
        doc = (load_json if case.fmt == "json" else load_yaml)(case.raw, source)
    except InputError:
        return  # the bytes never became data
    before = stored(intake)
    with pytest.raises(ContentError):
        submit(doc.data, runtime=intake)
    assert stored(intake) == before


@pytest.mark.parametrize("case", ACCEPTED, ids=[c.name for c in ACCEPTED])
def test_a_hostile_but_valid_item_renders_safely_on_every_channel(case: ItemCase, render_cfg: Config) -> None:
    # Given an item that is valid but hostile (markup, scripts, invisible or right-to-left characters)
    item = load_item_bytes(case.raw, f"{case.name}.{case.fmt}")
    # When every channel renders it
    posts = list(render_everywhere(render_cfg, item))
    # Then each post is safe (or that one publication is refused with a ContentError), and most render
    assert {p.account: unsafe(p) for p in posts if unsafe(p)} == {}
    assert sum(p.rendered is not None for p in posts) >= len(posts) - 1


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c.name for c in CONFIG_CASES])
def test_a_hostile_config_file_is_refused_naming_the_file_the_field_and_why(case: ConfigCase, tmp_path: Path) -> None:
    # Given a valid config directory with one file replaced by hostile content
    d = write_config(tmp_path / "config", accounts=sandbox_accounts("sandbox-a"),
                     routes=[simple_route("test", ["en-US"], ["sandbox-a"])])
    (d / case.path).write_bytes(case.raw)
    # When it is loaded / Then it is refused with every problem, each naming the file
    with pytest.raises(ConfigError) as refused:
        load_config(d, environ={})
    problems = refused.value.problems
    assert problems and all(p.message for p in problems)
    assert any(p.path.endswith(case.path) for p in problems), problems
    if case.field:
        assert any(case.field in p.field or case.field in p.message for p in problems), problems
    if case.reason:
        assert case.reason in str(refused.value), str(refused.value)


def test_intake_size_limits_come_from_settings(config_dir: Callable[..., Path], sqlite_url: str) -> None:
    # Given settings that lower the body and title limits and the item size
    d = config_dir(settings={"intake": {"max_body_chars": 100, "max_title_chars": 20, "max_item_bytes": 4096,
                                        "max_tags": 2}})
    cfg = load_config(d)
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        # Then items over them are refused, naming the limit, by the parser and by the producer API
        for over, field in ((dict(body="x" * 101), "body"), (dict(title="t" * 21), "title"),
                            (dict(tags=["a", "b", "c"]), "tags"), (dict(summary="s" * 5000), "more than the limit")):
            with pytest.raises(ContentError, match=field):
                parse_item(item_data(**over), limits=cfg.intake_limits)
            with pytest.raises(ContentError, match="limit"):
                submit(item_data(**over), runtime=rt)
        # And items within them are accepted, while the default limits would take far more
        assert submit(item_data(body="x" * 100, title="t" * 20), runtime=rt).status == "created"
        assert parse_item(item_data(body="x" * 150_000)).body == "x" * 150_000
        # And an unknown limit is a config error naming it
        with pytest.raises(ConfigError, match="max_bdy_chars"):
            load_config(config_dir(settings={"intake": {"max_bdy_chars": 5}}))
