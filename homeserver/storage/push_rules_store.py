"""A user's push rules: their own rules and their changes to the server defaults.

spec: client-server "Push Rules: API". The server-default rules themselves are data in
``homeserver.protocol.push_rules``; only what a user changed is stored. Handlers
compose these functions inside one write transaction (the rules and the
``m.push_rules`` account data change together).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .database import Txn, in_chunks


@dataclass(frozen=True, slots=True)
class StoredRule:
    kind: str
    rule_id: str
    priority: int
    conditions: list[Any] | None
    pattern: str | None
    actions: list[Any]
    enabled: bool


@dataclass(frozen=True, slots=True)
class StoredDefaultChange:
    rule_id: str
    enabled: bool | None
    actions: list[Any] | None


def _json(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def _loads(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


_RULE_COLUMNS = "user_id, kind, rule_id, priority, conditions, pattern, actions, enabled"


def user_rules(txn: Txn, user_ids: Sequence[str]) -> dict[str, list[StoredRule]]:
    """Each user's own rules, each kind most important (highest priority) first."""
    found: dict[str, list[StoredRule]] = {user_id: [] for user_id in user_ids}
    for chunk in in_chunks(user_ids):
        rows = txn.fetchall(
            f"SELECT {_RULE_COLUMNS} FROM push_rules WHERE user_id IN {txn.in_list(chunk)}"
            " ORDER BY user_id, kind, priority DESC, rule_id",
            chunk,
        )
        for user_id, kind, rule_id, priority, conditions, pattern, actions, enabled in rows:
            found[user_id].append(
                StoredRule(
                    kind,
                    rule_id,
                    int(priority),
                    _loads(conditions),
                    pattern,
                    _loads(actions),
                    bool(enabled),
                )
            )
    return found


def default_changes(txn: Txn, user_ids: Sequence[str]) -> dict[str, list[StoredDefaultChange]]:
    found: dict[str, list[StoredDefaultChange]] = {user_id: [] for user_id in user_ids}
    for chunk in in_chunks(user_ids):
        rows = txn.fetchall(
            "SELECT user_id, rule_id, enabled, actions FROM push_rule_defaults"
            f" WHERE user_id IN {txn.in_list(chunk)}",
            chunk,
        )
        for user_id, rule_id, enabled, actions in rows:
            found[user_id].append(
                StoredDefaultChange(
                    rule_id, None if enabled is None else bool(enabled), _loads(actions)
                )
            )
    return found


def upsert_rule(
    txn: Txn,
    user_id: str,
    kind: str,
    rule_id: str,
    priority: int,
    conditions: list[Any] | None,
    pattern: str | None,
    actions: list[Any],
) -> None:
    """Create a rule (enabled), or replace an existing one's definition (its enabled flag
    stays)."""
    txn.execute(
        "INSERT INTO push_rules (user_id, kind, rule_id, priority, conditions, pattern, actions,"
        " enabled) VALUES (?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (user_id, kind, rule_id)"
        " DO UPDATE SET priority = excluded.priority, conditions = excluded.conditions,"
        " pattern = excluded.pattern, actions = excluded.actions",
        (
            user_id,
            kind,
            rule_id,
            priority,
            None if conditions is None else _json(conditions),
            pattern,
            _json(actions),
        ),
    )


def set_priorities(txn: Txn, user_id: str, kind: str, rule_ids: Sequence[str]) -> None:
    """Order a kind's rules as ``rule_ids`` (most important first)."""
    count = len(rule_ids)
    txn.executemany(
        "UPDATE push_rules SET priority = ? WHERE user_id = ? AND kind = ? AND rule_id = ?",
        [(count - i, user_id, kind, rule_id) for i, rule_id in enumerate(rule_ids)],
    )


def delete_rule(txn: Txn, user_id: str, kind: str, rule_id: str) -> bool:
    txn.execute(
        "DELETE FROM push_rules WHERE user_id = ? AND kind = ? AND rule_id = ?",
        (user_id, kind, rule_id),
    )
    return txn.rowcount > 0


def set_rule_enabled(txn: Txn, user_id: str, kind: str, rule_id: str, enabled: bool) -> bool:
    txn.execute(
        "UPDATE push_rules SET enabled = ? WHERE user_id = ? AND kind = ? AND rule_id = ?",
        (1 if enabled else 0, user_id, kind, rule_id),
    )
    return txn.rowcount > 0


def set_rule_actions(txn: Txn, user_id: str, kind: str, rule_id: str, actions: list[Any]) -> bool:
    txn.execute(
        "UPDATE push_rules SET actions = ? WHERE user_id = ? AND kind = ? AND rule_id = ?",
        (_json(actions), user_id, kind, rule_id),
    )
    return txn.rowcount > 0


def change_default(
    txn: Txn,
    user_id: str,
    rule_id: str,
    *,
    enabled: bool | None = None,
    actions: list[Any] | None = None,
) -> None:
    """Record the user's enabled flag or actions for a server-default rule (what is not
    given keeps its recorded value)."""
    txn.execute(
        "INSERT INTO push_rule_defaults (user_id, rule_id, enabled, actions) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id, rule_id) DO UPDATE SET"
        " enabled = COALESCE(excluded.enabled, push_rule_defaults.enabled),"
        " actions = COALESCE(excluded.actions, push_rule_defaults.actions)",
        (
            user_id,
            rule_id,
            None if enabled is None else (1 if enabled else 0),
            None if actions is None else _json(actions),
        ),
    )
