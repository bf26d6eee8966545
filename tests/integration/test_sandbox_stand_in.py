"""A sandbox account with ``as: CHANNEL`` renders as that channel's adapter does, and writes the post.

The demo config uses it, so ``syndicate preview`` and the outbox show what would really be posted:
X's weighted length with its hashtags, LinkedIn's escaped commentary, WordPress's HTML.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from adapters.x import XAdapter, XOptions
from syndicate import Runtime, submit
from syndicate.base.secrets import Credentials
from syndicate.channels.contract import AccountContext
from syndicate.config.loading import load_config
from syndicate.errors import ConfigError
from syndicate.intake.planning import PlanOptions, plan_item
from syndicate.model.item import load_item_file
from syndicate.publishing.content import build_content
from syndicate.worker.host import run_until_settled
from tests.helpers import REPO, item_data, simple_route

LAUNCH = REPO / "examples" / "content" / "product-launch.yaml"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setenv("SYNDICATE_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    monkeypatch.setenv("SYNDICATE_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.delenv("SYNDICATE_REDIS_URL", raising=False)
    shutil.copytree(REPO / "config", tmp_path / "config")
    monkeypatch.setenv("SYNDICATE_CONFIG", str(tmp_path / "config"))

    def invoke(*args: str) -> Result:
        from syndicate.cli import main

        return CliRunner().invoke(main, list(args))

    return invoke


def test_a_sandbox_standing_in_for_x_renders_exactly_as_the_x_adapter() -> None:
    # Given the demo config and the example launch item, planned for its en-US X account
    cfg = load_config(REPO / "config", check_secrets=False)
    item = load_item_file(LAUNCH)
    [pub] = [p for p in plan_item(item, cfg, PlanOptions(now=item.approved_at, ignore_schedule=True))
             if p.account == "x-na"]
    content = build_content(item, {}, pub)
    # When the sandbox account and a real X adapter render it
    sandbox = cfg.adapter_class("x-na")(cfg.account_context("x-na"))
    real = XAdapter(AccountContext(id="x", options=XOptions(), credentials=Credentials("x", {})))
    shown, posted = sandbox.render(content), real.render(content)
    # Then the text, its weighted length and its limit are X's: 265 of 280, hashtags kept
    assert shown == posted
    assert (shown.length, shown.limit) == (265, 280)
    assert shown.text.endswith("#MarketingAnalytics #LeadAttribution")
    assert sandbox.limits.counter("https://example.com/" + "x" * 100) == 23  # a URL weighs 23, as on X
    assert sandbox.label == "sandbox as x"


def test_preview_of_the_demo_shows_the_x_post_as_x_would_take_it(cli: Callable[..., Result]) -> None:
    out = cli("preview", str(LAUNCH), "--now", "--locale", "en-US", "--channel", "x-na")
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("== en-US · x-na (sandbox as x) · slot 0 · ")
    assert "#MarketingAnalytics #LeadAttribution\n-- 265/280 · text · link " in out.stdout
    assert "hashtags left out" not in out.stdout


def test_the_outbox_gets_the_stood_in_channels_text(cli: Callable[..., Result], tmp_path: Path) -> None:
    # When the demo publishes the launch item
    assert cli("run", "--now", str(LAUNCH)).exit_code == 0
    # Then the X post is X's rendering, and the blog post is WordPress's sanitized HTML
    x_post = (tmp_path / "outbox" / "x-na" / "launch-2026-analytics" / "r1.en-US.0.txt").read_text(encoding="utf-8")
    assert x_post.endswith("#MarketingAnalytics #LeadAttribution")
    blog = (tmp_path / "outbox" / "blog-en" / "launch-2026-analytics" / "r1.en-US.0.txt").read_text(encoding="utf-8")
    assert "<h2>Every post, measured</h2>" in blog
    meta = json.loads((tmp_path / "outbox" / "x-na" / "launch-2026-analytics" / "r1.en-US.0.json")
                      .read_text(encoding="utf-8"))
    assert (meta["length"], meta["limit"]) == (265, 280)


def test_preview_shows_the_review_gate_where_a_route_requires_it(
    config_dir: Callable[..., Path], tmp_path: Path
) -> None:
    # Given a German route whose machine translations wait for review, and an English one that does not
    cfg = config_dir(accounts={"x-de": {"adapter": "sandbox", "options": {"as": "x"}},
                               "x-en": {"adapter": "sandbox", "options": {"as": "x"}}},
                     routes=[simple_route("en", ["en-US"], ["x-en"]),
                             simple_route("de", ["de-DE"], ["x-de"],
                                          translation={"engine": "pseudo", "review_required": True})])
    path = tmp_path / "item.yaml"
    path.write_text(yaml.safe_dump(item_data()), encoding="utf-8")
    from syndicate.cli import main

    env = {"SYNDICATE_CONFIG": str(cfg), "SYNDICATE_DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}"}
    text = CliRunner().invoke(main, ["preview", str(path), "--now"], env=env)
    as_json = CliRunner().invoke(main, ["preview", str(path), "--now", "--format", "json"], env=env)
    # Then the German post shows it awaits review and the English one is scheduled
    assert text.exit_code == 0, text.output
    headers = [line for line in text.stdout.splitlines() if line.startswith("== ")]
    assert [h.rsplit(" · ", 1)[1] for h in headers] == ["awaiting review", "scheduled"]
    assert {p["locale"]: p["state"] for p in json.loads(as_json.stdout)} == {"de-DE": "awaiting_review",
                                                                             "en-US": "scheduled"}


def test_preview_of_an_invalid_file_does_not_claim_nothing_was_submitted(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(item_data(approved=False)), encoding="utf-8")
    out = cli("preview", str(path))
    assert out.exit_code == 2
    assert "1 of 1 item file(s) refused" in out.stderr
    assert "submitted" not in out.stderr


@pytest.mark.parametrize(("options", "message"), [
    ({"as": "carrier-pigeon"}, "as: 'carrier-pigeon' is not an adapter the sandbox can stand in for; installed: "),
    ({"as": "sandbox"}, "as: 'sandbox' is not an adapter the sandbox can stand in for"),
    ({"as": "linkedin"}, "as_options (for linkedin): author: Field required"),
    ({"as": "x", "as_options": {"thread_max_parts": 99}}, "as_options (for x): thread_max_parts: "),
    ({"as": "x", "max_length": 280}, "max_length: do not apply with 'as: x'"),
    ({"as_options": {"thread": True}}, "as_options: set 'as' to the adapter these options are for"),
])
def test_a_stand_in_is_checked_when_the_config_is_loaded(
    config_dir: Callable[..., Path], options: dict[str, Any], message: str
) -> None:
    cfg = config_dir(accounts={"a": {"adapter": "sandbox", "options": options}})
    with pytest.raises(ConfigError) as err:
        load_config(cfg, check_secrets=False)
    found = [str(p) for p in err.value.problems]
    assert len(found) == 1 and "accounts.a.options" in found[0] and message in found[0], found


def test_a_stand_in_publishes_through_the_pipeline_with_the_real_limits(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path
) -> None:
    # Given an X stand-in and a title far longer than one post
    cfg = config_dir(accounts={"x": {"adapter": "sandbox", "options": {"as": "x", "as_options": {"thread": True}}}},
                     routes=[simple_route("en", ["en-US"], ["x"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        submit(item_data(summary="word " * 200), runtime=rt, ignore_schedule=True)
        [pub] = run_until_settled(rt, rt.ledger.publications)
    # Then it went out as an X thread would: numbered parts, each within 280 weighted characters
    assert pub.state == "published", pub.last_error
    assert pub.rendered is not None and len(pub.rendered["parts"]) > 1
    assert all(n <= 280 for n in pub.rendered["extra"]["lengths"])
