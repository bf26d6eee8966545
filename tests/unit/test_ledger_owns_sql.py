"""The ledger is the only code that speaks SQL: nothing outside syndicate/ledger/ imports SQLAlchemy,
the ledger's tables or its migrations (ARCHITECTURE.md, "The layers")."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.unit.test_architecture import _imports

LEDGER = REPO / "syndicate" / "ledger"
#: What only the ledger may import: the SQL toolkit, the schema and the migrations.
SQL_MODULES = ("sqlalchemy", "alembic", "syndicate.ledger.schema", "syndicate.ledger.migrate",
               "syndicate.ledger.migrations")
OUTSIDE = sorted(p for p in [*(REPO / "syndicate").rglob("*.py"), *(REPO / "adapters").glob("*.py")]
                 if LEDGER not in p.parents)


def _speaks_sql(module: str) -> bool:
    return any(module == m or module.startswith(f"{m}.") for m in SQL_MODULES)


@pytest.mark.parametrize("path", OUTSIDE, ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_outside_the_ledger_imports_sql(path: Path) -> None:
    # Given a module of syndicate/ or adapters/ outside the ledger
    # Then none of its imports (lazy ones and TYPE_CHECKING included) reaches SQL or the schema
    found = sorted({f"{path.name}:{line} imports {target}" for line, target in _imports(path) if _speaks_sql(target)})
    assert not found, found


def test_the_check_sees_what_the_ledger_imports() -> None:
    # Given the ledger's own modules / Then the check finds SQLAlchemy and the schema there (it can fail)
    seen = {target for p in LEDGER.rglob("*.py") for _line, target in _imports(p) if _speaks_sql(target)}
    assert "sqlalchemy" in seen and "syndicate.ledger.schema" in seen


def test_only_the_ledger_package_and_sql_free_modules_are_left_out() -> None:
    # Given the modules checked / Then every module of syndicate/ is either checked or in the ledger
    everything = sorted((REPO / "syndicate").rglob("*.py"))
    assert [p for p in everything if p not in OUTSIDE] == sorted(LEDGER.rglob("*.py"))
    assert len(OUTSIDE) > 50
