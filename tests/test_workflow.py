"""The case workflow table, enforced in the database transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from hub.cases.store import NewCase, get_case, open_case
from hub.cases.workflow import CaseAction, allowed_actions, apply
from hub.errors import CaseError, TransitionError

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
# (state the case is in, action, role, the state after it or None when refused)
TABLE = [
    ("reported", "accept", "operator", "accepted"),
    ("reported", "accept", "patrol", None),
    ("reported", "accept", "integrator", None),
    ("reported", "reject", "operator", "rejected"),
    ("reported", "reject", "system", None),
    ("reported", "dispatch", "operator", None),
    ("reported", "close", "operator", None),
    ("accepted", "dispatch", "operator", "dispatched"),
    ("accepted", "reject", "admin", "rejected"),
    ("accepted", "handoff", "operator", "escalated"),
    ("dispatched", "arrive", "patrol", "arrived"),
    ("dispatched", "arrive", "operator", None),
    ("dispatched", "redispatch", "system", "dispatched"),
    ("dispatched", "sla_escalate", "system", "dispatched"),
    ("dispatched", "sla_escalate", "operator", None),
    ("arrived", "resolve", "patrol", "resolved"),
    ("arrived", "close", "operator", None),
    ("resolved", "close", "operator", "closed"),
    ("resolved", "close", "patrol", None),
    ("closed", "evaluate", "operator", "evaluated"),
    ("closed", "accept", "operator", None),
    ("evaluated", "evaluate", "operator", None),
    ("rejected", "accept", "operator", None),
    ("rejected", "comment", "operator", "rejected"),
    ("escalated", "accept", "operator", "accepted"),
    ("escalated", "dispatch", "system", "dispatched"),
    ("reported", "fly", "admin", None),
]


def _case_in(conn: psycopg.Connection[tuple[object, ...]], state: str) -> int:
    case_id = open_case(conn, NewCase("manual", "测试"), NOW, "test", 300)
    conn.execute("UPDATE cases SET state = %s WHERE id = %s", (state, case_id))
    return case_id


@pytest.mark.parametrize(("state", "action", "role", "after"), TABLE)
def test_transition_table(
    module_db: str, state: str, action: str, role: str, after: str | None
) -> None:
    with psycopg.connect(module_db) as conn:
        case_id = _case_in(conn, state)
        request = CaseAction(case_id, action, "someone", role, "note")
        if after is None:
            with pytest.raises(TransitionError) as caught:
                apply(conn, request, NOW)
            assert caught.value.allowed == allowed_actions(state, role)
            assert f"allowed: {', '.join(caught.value.allowed) or 'none'}" in str(caught.value)
            assert get_case(conn, case_id).state == state
        else:
            change = apply(conn, request, NOW)
            assert (change.from_state, change.to_state) == (state, after)
            assert get_case(conn, case_id).state == after
            events = conn.execute(
                "SELECT action, from_state, to_state, actor FROM case_events WHERE case_id = %s"
                " ORDER BY id", (case_id,),
            ).fetchall()  # fmt: skip
            assert events[-1] == (action, state, after, "someone")


def test_unknown_case(module_db: str) -> None:
    with psycopg.connect(module_db) as conn, pytest.raises(CaseError, match="no case 999"):
        apply(conn, CaseAction(999, "accept", "x", "operator"), NOW)
