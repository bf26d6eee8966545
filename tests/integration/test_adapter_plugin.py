"""A third-party adapter, installed with pip from ``tests/data/example_adapter/``, is found and used.

The plugin is built and installed into a temporary directory with this venv's pip (``--target``),
as ``docs/writing-an-adapter.md`` tells an author to try it; the directory is then put on
``sys.path`` (or ``PYTHONPATH`` for a subprocess) and a fresh registry reads the entry points.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate import ConfigError, Runtime, submit
from syndicate.channels.contract import AdapterRegistry
from syndicate.config.loading import load_config
from syndicate.publishing.steps import do_publish, do_reconcile
from syndicate.worker.host import run_until_settled
from tests.fakes.base import FakeServer, Fault, Request, Response
from tests.helpers import REPO, item_data, simple_route
from tests.reliability.matrix import enqueued_one
from tests.reliability.support import make_due

PLUGIN_SOURCE = REPO / "tests" / "data" / "example_adapter"
TOKEN = "nb-token-0123456789"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin, built and installed with pip into a directory of its own."""
    base = tmp_path_factory.mktemp("plugin")
    source = base / "source"
    shutil.copytree(PLUGIN_SOURCE, source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    target = base / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-input", "--quiet",
                           "--target", str(target), str(source)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return target


@pytest.fixture
def on_path(plugin_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(plugin_path))
    return plugin_path


class FakeNoticeboard(FakeServer):
    """The Noticeboard API of the example plugin: POST /notes, GET /notes?ref=."""

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[dict[str, str]] = []
        self.route("POST", "/notes", self._create)
        self.route("GET", "/notes", self._list)

    def _create(self, req: Request) -> Response:
        if req.header("Authorization") != f"Bearer {TOKEN}":
            return Response(401, {"error": "bad token"})
        data = req.json()
        note = {"id": f"n{len(self.notes) + 1}", "url": f"{self.url}/n/{len(self.notes) + 1}", "text": data["text"],
                "ref": data["ref"]}
        self.notes.append(note)
        return Response(201, {"id": note["id"], "url": note["url"]})

    def _list(self, req: Request) -> Response:
        ref = req.query.get("ref", [""])[0]
        return Response(200, {"notes": [n for n in self.notes if n["ref"] == ref]})


def _accounts(base_url: str = "http://127.0.0.1:9/", **options: Any) -> dict[str, Any]:
    return {"board": {"adapter": "noticeboard", "base_url": base_url, "credentials": {"token": "${NB_TOKEN}"},
                      "options": options}}


def test_a_fresh_registry_finds_the_installed_plugin_by_name(on_path: Path) -> None:
    # Given the plugin installed on the path, When a fresh registry lists and loads adapters
    registry = AdapterRegistry()
    cls = registry.get("noticeboard")
    # Then the plugin is there by its entry-point name, next to the built-in adapters
    assert "noticeboard" in registry.names() and {"feeds", "webhooks", "sandbox"} <= set(registry.names())
    assert cls is not None and cls.__module__ == "syndicate_noticeboard" and cls.name == "noticeboard"
    assert Path(sys.modules["syndicate_noticeboard"].__file__ or "").is_relative_to(on_path)


def test_config_validation_accepts_an_account_of_the_plugin_and_checks_its_options(
    on_path: Path, config_dir: Callable[..., Path]
) -> None:
    # Given an account using the plugin
    good = config_dir(accounts=_accounts(max_length=280), routes=[simple_route("r", ["en-US"], ["board"])])
    # When the config is loaded with a fresh registry, Then it is valid and the account has the plugin's options
    cfg = load_config(good, registry=AdapterRegistry(), environ={"NB_TOKEN": TOKEN})
    assert cfg.account_context("board").options.model_dump() == {"max_length": 280}
    # When an account gives an unknown option and no token, Then both problems are named
    bad_accounts = _accounts(colour="blue")
    del bad_accounts["board"]["credentials"]
    bad = config_dir(accounts=bad_accounts, routes=[simple_route("r", ["en-US"], ["board"])])
    with pytest.raises(ConfigError) as info:
        load_config(bad, registry=AdapterRegistry(), environ={})
    text = str(info.value)
    assert "accounts.board.options.colour: unknown field" in text
    assert "adapter 'noticeboard' needs the credential 'token'" in text


def _runtime(board: FakeNoticeboard, config_dir: Callable[..., Path], sqlite_url: str) -> Runtime:
    """An embedded runtime with one route to an account of the plugin at ``board``."""
    cfg_dir = config_dir(accounts=_accounts(board.url), routes=[simple_route("r", ["en-US"], ["board"])])
    cfg = load_config(cfg_dir, registry=AdapterRegistry(), environ={"NB_TOKEN": TOKEN})
    return Runtime.create(config=cfg, database_url=sqlite_url, redis_url="")


def test_the_plugin_publishes_through_the_pipeline(on_path: Path, config_dir: Callable[..., Path],
                                                   sqlite_url: str) -> None:
    # Given a Noticeboard service and a route to an account using the plugin
    with FakeNoticeboard() as board, _runtime(board, config_dir, sqlite_url) as rt:
        # When an item is submitted and the worker runs
        submit(item_data(), runtime=rt, ignore_schedule=True)
        [pub] = run_until_settled(rt, rt.ledger.publications, threads=2, timeout=timedelta(seconds=60))
    # Then the plugin posted one note with the tagged link, and the ledger has its id and URL
    assert pub.state == "published"
    [note] = board.notes
    assert pub.tagged_url in note["text"] and note["ref"] == pub.marker
    assert pub.remote_id == note["id"] and pub.permalink == note["url"]


def test_the_plugins_failures_are_mapped_by_the_kit(on_path: Path, config_dir: Callable[..., Path],
                                                    sqlite_url: str) -> None:
    # Given the plugin, whose code maps no status and no exception itself (the kit's HttpAdapter does)
    with FakeNoticeboard() as board, _runtime(board, config_dir, sqlite_url) as rt:
        # When the service asks to wait, Then the publication waits that long without an attempt
        board.fail_next(Fault("status", status=429, headers={"Retry-After": "120"}, body={"error": "slow"}))
        pid = enqueued_one(rt)
        assert do_publish(rt, pid) == "deferred"
        pub = rt.ledger.publication(pid)
        assert pub is not None and pub.attempts == 0
        assert pub.scheduled_for > rt.ledger.now() + timedelta(seconds=100)
        # When the note is made and the answer is a 500, Then it is in doubt and reconciling finds it
        make_due(rt, pid)
        [due] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
        board.fail_next(Fault("status", status=500, when="after", method="POST"))
        assert do_publish(rt, due.id) == "in_doubt"
        assert do_reconcile(rt, due.id) == "published"
        # And there is one note, recorded with its id
        [note] = board.notes
        pub = rt.ledger.publication(pid)
        assert pub is not None and pub.remote_id == note["id"] and note["ref"] == pub.marker


def _fake_distribution(directory: Path, name: str, entry_point: str) -> Path:
    """A minimal installed distribution (what pip leaves in site-packages) declaring one adapter."""
    info = directory / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[syndicate.adapters]\n{entry_point}\n", encoding="utf-8")
    return directory


def test_two_entry_points_with_one_name_stop_start_up_naming_both(
    plugin_path: Path, tmp_path: Path, config_dir: Callable[..., Path]
) -> None:
    # Given the plugin and another distribution that registers the same adapter name
    other = _fake_distribution(tmp_path / "other", "other-noticeboard", "noticeboard = other_board:Board")
    cfg = config_dir(accounts=_accounts(), routes=[simple_route("r", ["en-US"], ["board"])])
    # When the config is validated (as the worker does at start-up) with both installed
    proc = subprocess.run([sys.executable, "-m", "syndicate", "validate", "--config", str(cfg)], cwd=REPO,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{plugin_path}:{other}", "NB_TOKEN": TOKEN},
                          capture_output=True, text=True, timeout=120)
    # Then it refuses to start, naming both registrations
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "adapter name registered twice" in proc.stderr
    assert "syndicate_noticeboard:NoticeboardAdapter (syndicate-noticeboard)" in proc.stderr
    assert "other_board:Board (other-noticeboard)" in proc.stderr


def test_a_registry_with_a_name_clash_refuses_to_list_adapters(plugin_path: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a distribution that claims the built-in name "webhooks"
    other = _fake_distribution(tmp_path / "other", "rogue-webhooks", "webhooks = rogue:Hooks")
    monkeypatch.syspath_prepend(str(other))
    # When a fresh registry reads the entry points, Then it raises naming both
    with pytest.raises(ConfigError) as info:
        AdapterRegistry().names()
    assert "adapters.webhooks:WebhookAdapter (syndicate)" in str(info.value)
    assert "rogue:Hooks (rogue-webhooks)" in str(info.value)
