"""Routes are thin (issue 25): a router module takes its dependencies, calls one service function and
returns a schema. Queries, commits, rollbacks and audit entries belong to the services, so that one
function owns each transaction; a router that does them fails here, naming the line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

ROUTERS = sorted({*ROOT.glob("api/*/router.py"), *ROOT.glob("api/*/*_router.py")})
#: What a router module may not call: SQL, the transaction, the audit log.
FORBIDDEN = {"select", "commit", "rollback", "audit", "execute", "scalars"}


def calls(path: Path) -> list[str]:
    """``name (line N)`` for each call in ``path`` of a function or method in :data:`FORBIDDEN`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in FORBIDDEN:
                found.append(f"{name} (line {node.lineno})")
    return found


def test_the_walk_sees_a_forbidden_call(tmp_path: Path) -> None:
    fat = tmp_path / "router.py"
    fat.write_text("def route(session):\n    session.commit()\n    return session.scalars(select(X))\n")
    assert sorted(calls(fat)) == ["commit (line 2)", "scalars (line 3)", "select (line 3)"]


@pytest.mark.parametrize("path", ROUTERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_router_leaves_queries_and_transactions_to_its_services(path: Path) -> None:
    assert len(ROUTERS) >= 15, "the routers were not found"
    assert not calls(path), f"{path.relative_to(ROOT)}: {calls(path)}"
