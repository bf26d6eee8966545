"""Tests are marked by the services their fixtures reach, so the fast loop can leave them out."""

from __future__ import annotations

import pytest

from tests.conftest import SLOW_TESTS, service_markers, slow_by_design
from tests.helpers import REPO


def collected(*args: str) -> dict[str, set[str]]:
    """The markers of each test pytest collects from ``args`` (node id → marker names)."""

    class Collector:
        def __init__(self) -> None:
            self.items: dict[str, set[str]] = {}

        def pytest_collection_finish(self, session: pytest.Session) -> None:
            self.items = {i.nodeid: {m.name for m in i.iter_markers()} for i in session.items}

    collector = Collector()
    code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "--rootdir", str(REPO), *args],
                       plugins=[collector])
    assert code == 0
    return collector.items


def test_a_fixture_of_a_service_marks_the_test_with_that_service() -> None:
    assert service_markers({"redis_namespace", "tmp_path"}, {}) == {"redis"}
    assert service_markers({"pg_url"}, {}) == {"postgres"}
    assert service_markers({"private_redis", "private_pg_url"}, {}) == {"redis", "postgres"}
    assert service_markers({"sqlite_url", "config_dir"}, {}) == set()


def test_only_the_postgres_variant_of_a_ledger_url_test_is_marked_postgres() -> None:
    assert service_markers({"ledger_url", "tmp_path"}, {"ledger_url": "postgres"}) == {"postgres"}
    assert service_markers({"ledger_url", "tmp_path"}, {"ledger_url": "sqlite"}) == set()


def test_each_variant_of_a_broker_test_is_marked_with_its_broker() -> None:
    assert service_markers({"broker", "pg_url"}, {"broker": "redis"}) == {"redis", "postgres"}
    assert service_markers({"broker", "pg_url"}, {"broker": "rabbitmq"}) == {"rabbitmq", "postgres"}
    assert service_markers({"rabbitmq_url"}, {}) == {"rabbitmq"}


def test_collected_tests_carry_the_markers_of_the_services_they_use() -> None:
    # Given a file whose tests run on both ledgers, and one whose fixture is built on pg_url
    ledger, pool = "tests/unit/test_ledger.py", "tests/integration/test_ledger_pool.py"
    items = collected(str(REPO / ledger), str(REPO / pool))
    # Then each PostgreSQL variant is marked postgres and its SQLite twin is not
    on_sqlite = {n for n in items if n.startswith(ledger) and "[sqlite]" in n}
    on_postgres = {n for n in items if n.startswith(ledger) and "[postgres]" in n}
    assert on_sqlite and {n.replace("[sqlite]", "[postgres]") for n in on_sqlite} == on_postgres
    assert all("postgres" in items[n] for n in on_postgres) and not any("postgres" in items[n] for n in on_sqlite)
    # And every test of the pool file is marked through its fixture
    pool_tests = [n for n in items if n.startswith(pool)]
    assert pool_tests and all(items[n] >= {"postgres"} for n in pool_tests)
    # And nothing that needs no service carries a service marker
    assert not any(items[n] & {"redis"} for n in items)


def test_every_test_listed_as_slow_exists() -> None:
    # A renamed or removed test would silently come back into the fast loop (or leave a dead entry)
    missing = []
    for where in SLOW_TESTS:
        path, function = where.split("::")
        source = (REPO / path).read_text(encoding="utf-8") if (REPO / path).is_file() else ""
        if f"def {function}(" not in source:
            missing.append(where)
    assert missing == []


def test_property_tests_and_cpu_time_measurements_are_slow_by_design() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    from tests.cpu import cpu_ratio

    @given(st.text())
    def a_property(text: str) -> None:
        assert text == text

    def a_measurement() -> None:
        assert cpu_ratio(str.upper, "x") > 0

    def a_plain_test() -> None:
        assert "x".upper() == "X"

    assert slow_by_design(a_property) and slow_by_design(a_measurement)
    assert not slow_by_design(a_plain_test)
    assert slow_by_design(a_plain_test, next(iter(SLOW_TESTS)))


def _start_child() -> str:
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", "print('x')"], capture_output=True, text=True, check=True).stdout


def _through_a_helper() -> str:
    return _start_child()


def test_tests_that_start_child_processes_or_draw_examples_inside_are_slow_by_design() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    def calls_a_helper_that_starts_a_child() -> None:
        assert _through_a_helper() == "x\n"

    def a_fixture_that_starts_a_child() -> str:
        return _start_child()

    def draws_examples_inside() -> None:
        @given(st.text())
        def check(text: str) -> None:
            assert text == text

        check()

    def a_plain_test(value: str = "x") -> None:
        assert value.upper() == "X"

    assert slow_by_design(calls_a_helper_that_starts_a_child)
    assert slow_by_design(a_plain_test, fixtures=[a_fixture_that_starts_a_child])
    assert slow_by_design(draws_examples_inside)
    assert not slow_by_design(a_plain_test, fixtures=[a_plain_test])


def test_the_collected_suite_marks_child_process_tests_slow() -> None:
    markers = collected(str(REPO / "tests/integration/test_feeds_serve.py"),
                        str(REPO / "tests/integration/test_health_compose.py"))
    served = [n for n in markers if "test_serve_feeds_answers_atom_and_rss" in n]
    parsed = [n for n in markers if "test_the_image_runs_as_a_non_root_user" in n]
    assert served and all("slow" in markers[n] for n in served)  # its fixture starts the server
    assert parsed and all("slow" not in markers[n] for n in parsed)  # it reads the files only
