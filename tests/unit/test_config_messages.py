"""`syndicate validate` in plain words: one exact message per kind of mistake, suggestions for
misspellings, tabs, problems sorted by file and line, and warnings for what is valid but odd."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ValidationError

from syndicate.channels.contract import default_registry
from syndicate.cli import main
from syndicate.config import loading as config_models
from syndicate.config.loading import load_config
from syndicate.config.problems import HANDLED_TYPES, plain_message
from syndicate.errors import ConfigError
from syndicate.localization.engines import ENGINES
from syndicate.model.glossary import GlossaryFile

ROUTE = "region: r\nlocales: [en-US]\ntimezone: UTC\naccounts: [a]\n"
ACCOUNTS = "accounts:\n  a:\n    adapter: sandbox\n"
#: settings.yaml with one engine profile (ops own engines; routes name them).
DEEPL_PROFILE = "translation:\n  engines:\n    deepl-eu: {engine: deepl, options: {auth_key: '${K}'}}\n"


def write(directory: Path, files: dict[str, str]) -> Path:
    """A config directory: one sandbox account 'a', one route 'r', then ``files`` over them."""
    (directory / "routes").mkdir(parents=True)
    (directory / "accounts.yaml").write_text(ACCOUNTS, encoding="utf-8")
    (directory / "routes" / "r.yaml").write_text(ROUTE, encoding="utf-8")
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def problems(directory: Path) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(directory, check_secrets=False)
    return [str(p).removeprefix(f"{directory}/") for p in err.value.problems]


#: (case, files over the baseline, every problem expected, exactly). One per kind of pydantic error
#: a config model raises, plus our own checks that suggest what was meant.
CASES: list[tuple[str, dict[str, str], list[str]]] = [
    ("missing", {"routes/r.yaml": "region: r\nlocales: [en-US]\naccounts: [a]\n"},
     ["routes/r.yaml:1: timezone: is required"]),
    ("misspelled key", {"routes/r.yaml": "region: r\nlocales: [en-US]\ntimzone: UTC\naccounts: [a]\n"},
     ["routes/r.yaml:3: timzone: unknown field; did you mean 'timezone'?"]),
    ("unknown key", {"routes/r.yaml": ROUTE + "colour: red\n"},
     ["routes/r.yaml:5: colour: unknown field; known fields: region, description, locales, timezone, translation, "
      "accounts, windows, min_gap, stagger, utm, utm_overrides, never_tag, buying_stages, require_stage, "
      "first_comment, short_links"]),
    ("misspelled settings section", {"settings.yaml": "wroker: {threads: 2}\n"},
     ["settings.yaml:1: wroker: unknown field; did you mean 'worker'?"]),
    ("misspelled adapter option", {"accounts.yaml": ACCOUNTS + "    options: {max_lenght: 100}\n"},
     ["accounts.yaml:4: accounts.a.options.max_lenght: unknown field; did you mean 'max_length'?"]),
    ("bool", {"routes/r.yaml": ROUTE + "translation:\n  review_required: yes\n"},
     ["routes/r.yaml:6: translation.review_required: expected true or false, got 'yes'"]),
    ("string", {"routes/r.yaml": ROUTE + "description: [a, b]\n"},
     ["routes/r.yaml:5: description: expected text, got a list"]),
    ("integer in quotes", {"settings.yaml": "worker:\n  threads: '8'\n"},
     ["settings.yaml:2: worker.threads: expected a whole number, got '8' (write it without quotes)"]),
    ("integer given a fraction", {"settings.yaml": "worker:\n  threads: 2.5\n"},
     ["settings.yaml:2: worker.threads: expected a whole number, got 2.5"]),
    ("number", {"accounts.yaml": ACCOUNTS + "    read_timeout_s: fast\n"},
     ["accounts.yaml:4: accounts.a.read_timeout_s: expected a number, got 'fast'"]),
    ("list", {"routes/r.yaml": ROUTE + "windows:\n  - days: mon\n"},
     ["routes/r.yaml:6: windows.0.days: expected a list such as [a, b], got 'mon'"]),
    ("mapping", {"routes/r.yaml": ROUTE + "utm: x\n"},
     ["routes/r.yaml:5: utm: expected a mapping of 'key: value' entries, got 'x'"]),
    ("model in a list", {"routes/r.yaml": ROUTE + "windows: [mon]\n"},
     ["routes/r.yaml:5: windows.0: expected a mapping of 'key: value' entries, got 'mon'"]),
    ("choice with a suggestion", {"routes/r.yaml": ROUTE + "windows:\n  - days: [mon, thurs]\n"},
     ["routes/r.yaml:6: windows.0.days.1: must be one of 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'; "
      "got 'thurs'; did you mean 'thu'?"]),
    ("choice without one",
     {"routes/r.yaml": ROUTE.replace("en-US", "de-DE") + "translation: {engine: deepl-eu, formality: formal}\n",
      "settings.yaml": DEEPL_PROFILE},
     ["routes/r.yaml:5: translation.formality: must be one of 'default', 'more', 'less', 'prefer_more', "
      "'prefer_less'; got 'formal'"]),
    ("pattern", {"routes/r.yaml": ROUTE.replace("region: r", "region: North America")},
     ["routes/r.yaml:1: region: must be lowercase letters, digits, '.', '_' and '-' (up to 64, starting with a "
      "letter or digit); got 'North America'"]),
    ("pattern of a UTM value", {"routes/r.yaml": ROUTE + "utm:\n  source: news letter\n"},
     ["routes/r.yaml:6: utm.source: must be one word without spaces and without '&', '#', '=' or '?'; "
      "got 'news letter'"]),
    ("pattern of a key", {"routes/r.yaml": ROUTE + "utm_overrides:\n  Partner FR: {medium: partner}\n"},
     ["routes/r.yaml:6: utm_overrides.Partner FR: invalid key: must be lowercase letters, digits, '.', '_' and "
      "'-' (up to 64, starting with a letter or digit); got 'Partner FR'"]),
    ("too short", {"routes/r.yaml": ROUTE + "utm:\n  source: ''\n"},
     ["routes/r.yaml:6: utm.source: must not be empty"]),
    ("too long", {"routes/r.yaml": ROUTE + "translation:\n  do_not_translate: [" + "x" * 120 + "]\n"},
     ["routes/r.yaml:6: translation.do_not_translate.0: must be at most 100 characters long; got 120"]),
    ("greater than", {"accounts.yaml": ACCOUNTS + "    connect_timeout_s: 0\n"},
     ["accounts.yaml:4: accounts.a.connect_timeout_s: must be more than 0; got 0"]),
    ("at least", {"settings.yaml": "worker:\n  threads: 0\n"},
     ["settings.yaml:2: worker.threads: must be at least 1; got 0"]),
    ("at most", {"settings.yaml": "api:\n  max_body_bytes: 999999999\n"},
     ["settings.yaml:2: api.max_body_bytes: must be at most 67,108,864; got 999999999"]),
    ("duration without a unit", {"routes/r.yaml": ROUTE + "min_gap: 60\n"},
     ["routes/r.yaml:5: min_gap: expected a duration string such as '30m' or 'P7D', got 60"]),
    ("local time", {"routes/r.yaml": ROUTE + "windows:\n  - {start: '9am'}\n"},
     ["routes/r.yaml:6: windows.0.start: '9am' is not a local time as HH:MM (00:00 to 24:00)"]),
    ("time zone in the wrong case", {"routes/r.yaml": ROUTE.replace("UTC", "europe/madrid")},
     ["routes/r.yaml:3: timezone: 'europe/madrid' is not an IANA time zone; did you mean 'Europe/Madrid'?"]),
    ("time zone by its city", {"routes/r.yaml": ROUTE.replace("UTC", "New York")},
     ["routes/r.yaml:3: timezone: 'New York' is not an IANA time zone; did you mean 'America/New_York'?"]),
    ("time zone too long to be a file name", {"routes/r.yaml": ROUTE.replace("UTC", "x" * 300)},
     ["routes/r.yaml:3: timezone: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not an IANA "
      "time zone; e.g. 'Europe/Berlin' or 'America/New_York'"]),
    ("indented with a tab", {"routes/r.yaml": ROUTE + "windows:\n\t- days: [mon]\n"},
     ["routes/r.yaml:6: invalid YAML: this line is indented with a tab; indent with spaces"]),
    ("tab after a colon", {"routes/r.yaml": ROUTE + "min_gap:\t1h\n"},
     ["routes/r.yaml:5: invalid YAML: a tab at column 9; YAML allows only spaces there"]),
    ("literal secret", {"accounts.yaml": ACCOUNTS + "    credentials: {token: abc}\n"},
     ["accounts.yaml:4: accounts.a.credentials.token: secrets are given by environment reference, e.g. "
      "'${X_ACCESS_TOKEN}', never written in the file"]),
    ("misspelled engine profile", {"routes/r.yaml": ROUTE + "translation: {engine: depl-eu}\n",
                                   "settings.yaml": DEEPL_PROFILE},
     ["routes/r.yaml:5: translation.engine: unknown engine profile 'depl-eu'; did you mean 'deepl-eu'? "
      "settings.yaml defines: deepl-eu; built in: pseudo, none"]),
    ("misspelled engine", {"settings.yaml": DEEPL_PROFILE.replace("engine: deepl,", "engine: depl,")},
     ["settings.yaml:3: translation.engines.deepl-eu.engine: unknown engine 'depl'; did you mean 'deepl'?"]),
    ("misspelled intake limit", {"settings.yaml": "intake: {max_body_char: 10}\n"},
     ["settings.yaml:1: intake.max_body_char: unknown limit; did you mean 'max_body_chars'?"]),
    ("misspelled account", {"routes/r.yaml": ROUTE.replace("[a]", "[b]"),
                            "accounts.yaml": "accounts:\n  a-na: {adapter: sandbox}\n"},
     ["routes/r.yaml:4: accounts.0: unknown account 'b' (accounts.yaml defines: a-na)"]),
    ("account one letter off", {"routes/r.yaml": ROUTE.replace("[a]", "[x-nna]"),
                                "accounts.yaml": "accounts:\n  x-na: {adapter: sandbox}\n"},
     ["routes/r.yaml:4: accounts.0: unknown account 'x-nna' (accounts.yaml defines: x-na); did you mean 'x-na'?"]),
    ("misspelled adapter", {"accounts.yaml": "accounts:\n  a: {adapter: sandbx}\n"},
     ["accounts.yaml:2: accounts.a.adapter: unknown adapter 'sandbx'; installed: feeds, linkedin, sandbox, "
      "webhooks, wordpress, x; did you mean 'sandbox'?"]),
]


@pytest.mark.parametrize(("files", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_kind_of_config_mistake_gets_its_plain_message(
    tmp_path: Path, files: dict[str, str], expected: list[str]
) -> None:
    # Given a valid config with one mistake; when it is loaded, then exactly this is reported
    assert problems(write(tmp_path, files)) == expected


def _config_models() -> set[type[BaseModel]]:
    reg = default_registry()
    models: set[type[BaseModel]] = {
        config_models.Route, config_models.Account, config_models._AccountsFile, config_models._SettingsFile,
        GlossaryFile}
    models |= {cls.Options for name in reg.names() if (cls := reg.get(name)) is not None}
    models |= {spec.options for spec in ENGINES.values()}
    return models


_WRONG_VALUES: list[Any] = ["yes", "", "x" * 3000, "Bad Key!", "9am", 5, -1, 0, 2.5, 10**12, True, None,
                            [], ["x"], [1], [None], [{}], ["a", "a"], {}, {"Bad Key!": {}}, {"k": "v"}, {"k": 5}]


def test_no_config_model_answers_a_wrong_value_in_pydantic_words() -> None:
    # Given every config model (routes, accounts, settings, glossaries, each adapter's and each
    # engine's options) and, for each field, values of every wrong kind
    seen: set[str] = set()
    raw_phrases = ("Input should", "Value error", "String should", "Field required", "Extra inputs",
                   "dictionary or instance", "NoneType", "Assertion failed")
    for model in _config_models():
        for name in model.model_fields:
            for value in _WRONG_VALUES:
                if name == "timezone" and value == "x" * 3000:
                    continue  # covered by the table above
                try:
                    model.model_validate({name: value, "zzz": 1})
                except ValidationError as exc:
                    for err in exc.errors():
                        seen.add(err["type"])
                        # When each error is put in words
                        message = plain_message(err, model)
                        # Then none reads like pydantic
                        assert not any(p in message for p in raw_phrases), (model.__name__, name, value, message)
    # And every kind of error they raise has its own message, none the generic fallback
    assert seen - HANDLED_TYPES == set()
    assert {"missing", "extra_forbidden", "bool_type", "literal_error", "string_pattern_mismatch",
            "greater_than_equal", "value_error", "model_type"} <= seen


def test_problems_are_sorted_by_file_and_line(tmp_path: Path) -> None:
    # Given mistakes in three files, found by the loader in another order than their lines
    d = write(tmp_path, {
        "settings.yaml": "worker:\n  threads: 0\n",
        "accounts.yaml": ACCOUNTS + "    read_timeout_s: fast\n    connect_timeout_s: 0\n",
        "routes/r.yaml": ROUTE.replace("UTC", "Mars/Olympus") + "windows:\n  - days: [mon, thurs]\n"})
    # When the config is loaded, then they come by file, then line
    found = problems(d)
    assert [p.split(": ", 1)[0] for p in found] == [
        "accounts.yaml:4", "accounts.yaml:5", "routes/r.yaml:3", "routes/r.yaml:6", "settings.yaml:2"]


def test_an_overnight_window_and_a_locale_without_region_are_warnings_not_errors(tmp_path: Path) -> None:
    # Given a valid route with a window 22:00-02:00 and the locale written 'ES'
    d = write(tmp_path, {"routes/r.yaml": ROUTE.replace("[en-US]", "[en-US, ES]")
                         + "windows:\n  - {days: [fri], start: '22:00', end: '02:00'}\n"})
    # When it is loaded, then it is valid, with two warnings
    cfg = load_config(d, check_secrets=False)
    assert [str(w).removeprefix(f"{d}/") for w in cfg.warnings] == [
        "routes/r.yaml:2: warning: locales.1: 'ES' is the language es (Spanish) without a region: dates, numbers "
        "and platform locale codes fall back to the language's defaults; did you mean 'es-ES'?",
        "routes/r.yaml:6: warning: windows.0: ends at 02:00, not after it starts at 22:00: it runs overnight, from "
        "22:00 on fri until 02:00 the next day; if that is not meant, swap start and end",
    ]


def test_validate_prints_warnings_and_exits_0(tmp_path: Path) -> None:
    # Given a config whose only remarks are warnings
    d = write(tmp_path, {"routes/r.yaml": ROUTE + "windows:\n  - {start: '09:00', end: '09:00'}\n"})
    # When it is validated
    result = CliRunner().invoke(main, ["validate", "--config", str(d)])
    # Then it is valid, says how many warnings, and prints each one
    assert result.exit_code == 0, result.output
    assert "valid: 1 routes (r), 1 accounts, 1 locales; 1 warning" in result.stdout
    assert (f"{d}/routes/r.yaml:6: warning: windows.0: ends at 09:00, not after it starts at 09:00: it is open 24 "
            "hours") in result.stderr


def test_validate_lists_errors_and_warnings_together_by_file_and_line(tmp_path: Path) -> None:
    # Given one route with a warning and another with an error
    d = write(tmp_path, {"routes/r.yaml": ROUTE + "windows:\n  - {start: '22:00', end: '06:00'}\n",
                         "routes/s.yaml": "region: s\nlocales: [fr-FR]\ntimezone: europe/paris\naccounts: [a]\n"})
    # When it is validated
    result = CliRunner().invoke(main, ["validate", "--config", str(d)])
    # Then it is invalid, and both are listed in file order, the warning marked as one
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "invalid configuration (1 problem, 1 warning):"
    assert lines[1].startswith(f"  {d}/routes/r.yaml:6: warning: windows.0: ends at 06:00")
    assert lines[2] == (f"  {d}/routes/s.yaml:3: timezone: 'europe/paris' is not an IANA time zone; "
                        "did you mean 'Europe/Paris'?")
