"""The case workflow as data: which action moves a case from which states, and who may.

上报 reported → 受理 accepted → 派遣 dispatched → 到场 arrived → 处置 resolved →
结案 closed → 评估 evaluated; side exits 误报 rejected and 提级 escalated.
`apply()` is the one place a case changes state: it locks the row, checks this
table, updates the case and appends the audit event in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from hub.errors import CaseError, TransitionError
from hub.storage import rows

OPEN_STATES = frozenset({"reported", "accepted", "dispatched", "arrived", "resolved", "escalated"})
STAFF = frozenset({"operator", "admin"})
SYSTEM = frozenset({"system"})
AUTO_ACCEPT_ACTOR = "hub"  # the actor of an `accept` the hub takes itself (auto-dispatch)


@dataclass(frozen=True, slots=True)
class Transition:
    """One action of the workflow."""

    action: str
    sources: frozenset[str]
    target: str | None  # None: the state stays (an event on the case, not a move)
    roles: frozenset[str]


def _t(action: str, sources: str, target: str | None, roles: frozenset[str]) -> Transition:
    return Transition(action, frozenset(sources.split()), target, roles)


OPEN = " ".join(sorted(OPEN_STATES))


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t("accept", "reported escalated", "accepted", STAFF | SYSTEM),
        _t("reject", "reported accepted escalated", "rejected", STAFF),
        _t("dispatch", "accepted escalated", "dispatched", STAFF | SYSTEM),
        _t("redispatch", "dispatched", None, STAFF | SYSTEM),
        _t("patrol_accept", "dispatched", None, SYSTEM),
        _t("escalate", "reported accepted dispatched arrived", "escalated", STAFF | SYSTEM),
        _t("handoff", OPEN, "escalated", STAFF),  # 网格吹哨、部门报到: a department takes it
        _t("sla_escalate", OPEN, None, SYSTEM),  # a missed deadline: one rung up the ladder
        _t("alert", OPEN + " closed evaluated rejected", None, SYSTEM),  # a repeated alert
        _t("notify", OPEN + " closed evaluated rejected", None, SYSTEM),  # people messaged
        _t("comment", OPEN + " closed evaluated rejected", None, STAFF | {"patrol"}),
        _t("arrive", "dispatched", "arrived", SYSTEM | {"patrol"}),
        _t("resolve", "arrived dispatched", "resolved", STAFF | SYSTEM | {"patrol"}),
        _t("close", "resolved", "closed", STAFF),
        _t("evaluate", "closed", "evaluated", STAFF),
    )
}


@dataclass(frozen=True, slots=True)
class CaseAction:
    """Someone (`actor`, acting as `role`) takes `action` on a case."""

    case_id: int
    action: str
    actor: str
    role: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CaseChange:
    """What `apply()` did."""

    case_id: int
    action: str
    from_state: str
    to_state: str
    event_id: int


def allowed_actions(state: str, role: str) -> list[str]:
    """The actions `role` may take on a case in `state`."""
    return sorted(a for a, t in TRANSITIONS.items() if state in t.sources and role in t.roles)


def apply(conn: psycopg.Connection[Any], request: CaseAction, at: datetime) -> CaseChange:
    """Take the requested action inside the caller's transaction, or raise."""
    case_id, action, role = request.case_id, request.action, request.role
    state = rows.scalar(conn, "SELECT state FROM cases WHERE id = %s FOR UPDATE", (case_id,))
    if state is None:
        raise CaseError(f"no case {case_id}")
    transition = TRANSITIONS.get(action)
    if transition is None or state not in transition.sources or role not in transition.roles:
        allowed = allowed_actions(state, role)
        raise TransitionError(
            f"cannot {action} case {case_id} in state {state} as {role}; "
            f"allowed: {', '.join(allowed) or 'none'}",
            allowed,
        )
    target = transition.target or state
    conn.execute(
        "UPDATE cases SET state = %s, updated_at = %s WHERE id = %s", (target, at, case_id)
    )
    event_id = rows.scalar(
        conn,
        """INSERT INTO case_events (case_id, at, actor, action, from_state, to_state, note)
           VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (case_id, at, request.actor, action, state, target, request.note),
    )
    return CaseChange(case_id, action, state, target, int(event_id))
