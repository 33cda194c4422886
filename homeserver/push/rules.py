"""A user's push rules: reading, changing, and publishing them as ``m.push_rules``.

spec: client-server "Push Rules: API" (``/pushrules/...``) and "Push Rules: Events"
(the ``m.push_rules`` account data carries the user's current rules to ``/sync``).

Only what a user changed is stored (their own rules, their edits of server-default
rules); the full ruleset is assembled from it and the defaults of
``homeserver.protocol.push_rules``. Every change also rewrites the ``m.push_rules``
account data in the same transaction, so ``/sync`` sees the rules through the ordinary
account-data stream. A user who never changed anything gets the account data written
lazily: on their first ``GET /pushrules`` or first initial sync (``ensure_account_data``),
which also refreshes it when the server's defaults changed since it was written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from homeserver.errors import MatrixError
from homeserver.lru import LruCache
from homeserver.protocol.push_rules import (
    KINDS,
    DefaultChange,
    InvalidRule,
    PushRule,
    Ruleset,
    assemble,
    check_actions,
    check_conditions,
    default_ruleset,
    is_server_default,
)
from homeserver.storage import account_data_store, push_rules_store
from homeserver.storage.database import Txn
from homeserver.storage.store import Store

PUSH_RULES_TYPE = "m.push_rules"
MAX_RULE_ID_LENGTH = 255


def load_rulesets(txn: Txn, user_ids: Sequence[str]) -> dict[str, Ruleset]:
    """The current ruleset of each user, in one transaction."""
    stored = push_rules_store.user_rules(txn, user_ids)
    changes = push_rules_store.default_changes(txn, user_ids)
    found: dict[str, Ruleset] = {}
    for user_id in user_ids:
        rules = [_from_stored(r) for r in stored.get(user_id, ())]
        edits = {
            c.rule_id: DefaultChange(c.enabled, tuple(c.actions) if c.actions is not None else None)
            for c in changes.get(user_id, ())
        }
        found[user_id] = assemble(user_id, rules, edits)
    return found


def _from_stored(row: push_rules_store.StoredRule) -> PushRule:
    return PushRule(
        kind=row.kind,
        rule_id=row.rule_id,
        actions=tuple(row.actions),
        conditions=tuple(row.conditions or ()),
        pattern=row.pattern,
        default=False,
        enabled=row.enabled,
    )


def account_data_content(ruleset: Ruleset) -> dict[str, Any]:
    return {"global": ruleset.to_json()}


class RulesetCache:
    """Users' rulesets in memory, for the evaluator (which needs every recipient's rules
    on every event). ``generation`` moves on every change, so a reader that started
    before a change does not cache what it read."""

    def __init__(self, max_size: int = 10_000) -> None:
        self._cache: LruCache[str, Ruleset] = LruCache(max_size)
        self.generation = 0

    def get(self, user_id: str) -> Ruleset | None:
        return self._cache.get(user_id)

    def put(self, user_id: str, ruleset: Ruleset, generation: int) -> None:
        if generation == self.generation:
            self._cache.set(user_id, ruleset)

    def invalidate(self, user_id: str) -> None:
        self.generation += 1
        self._cache.pop(user_id)


@dataclass(frozen=True, slots=True)
class RuleChange:
    """A ``PUT /pushrules/global/{kind}/{ruleId}``, checked."""

    kind: str
    rule_id: str
    actions: list[Any]
    conditions: list[Any] | None
    pattern: str | None
    before: str | None
    after: str | None


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise MatrixError(400, "M_INVALID_PARAM", f"Unknown push rule kind {kind!r}")


def _invalid(exc: InvalidRule) -> MatrixError:
    return MatrixError(400, "M_INVALID_PARAM", str(exc))


def parse_rule_change(
    kind: str, rule_id: str, body: Mapping[str, Any], before: str | None, after: str | None
) -> RuleChange:
    """spec: ``PUT /pushrules/global/{kind}/{ruleId}`` — the rule id must not start with a
    dot (server-default rules) nor hold a slash or a backslash."""
    check_kind(kind)
    if is_server_default(rule_id):
        raise MatrixError(400, "M_UNKNOWN", "Rule ids starting with '.' are the server's")
    if "/" in rule_id or "\\" in rule_id:
        raise MatrixError(400, "M_UNKNOWN", "Rule ids may not contain slashes or backslashes")
    if len(rule_id) > MAX_RULE_ID_LENGTH:
        raise MatrixError(400, "M_UNKNOWN", f"Rule ids are at most {MAX_RULE_ID_LENGTH} long")
    if "actions" not in body:
        raise MatrixError(400, "M_MISSING_PARAM", "`actions` is required")
    try:
        actions = list(check_actions(body["actions"]))
        conditions: list[Any] | None = None
        if kind in ("override", "underride"):
            conditions = list(check_conditions(body.get("conditions", [])))
    except InvalidRule as exc:
        raise _invalid(exc) from None
    pattern: str | None = None
    if kind == "content":
        if "pattern" not in body:
            raise MatrixError(400, "M_MISSING_PARAM", "A content rule needs a `pattern`")
        pattern = body["pattern"]
        if not isinstance(pattern, str):
            raise MatrixError(400, "M_INVALID_PARAM", "`pattern` must be a string")
    for name, value in (("before", before), ("after", after)):
        if value is not None and is_server_default(value):
            # spec: "It is not possible to add a rule relative to a predefined server rule."
            raise MatrixError(
                400, "M_UNKNOWN", f"`{name}` cannot name a server-default rule: {value}"
            )
    return RuleChange(kind, rule_id, actions, conditions, pattern, before, after)


def _new_order(current: list[str], change: RuleChange) -> list[str]:
    """The kind's user rules, most important first, with the changed rule placed.

    spec: ``before`` makes it the next more important rule than ``before``; ``after``
    the next less important than ``after`` (``before`` wins when both are given); a new
    rule otherwise becomes the most important; an updated one keeps its place.
    """
    others = [rule_id for rule_id in current if rule_id != change.rule_id]
    anchor = change.before if change.before is not None else change.after
    if anchor is not None:
        if anchor not in others:
            raise MatrixError(400, "M_UNKNOWN", f"before/after rule not found: {anchor}")
        at = others.index(anchor) + (0 if change.before is not None else 1)
    elif change.rule_id in current:
        at = current.index(change.rule_id)
    else:
        at = 0
    return [*others[:at], change.rule_id, *others[at:]]


class PushRulesHandler:
    def __init__(
        self,
        store: Store,
        on_account_data: Callable[[str, int], None],
        cache: RulesetCache | None = None,
    ) -> None:
        self.store = store
        self.on_account_data = on_account_data  # the sync notifier's
        self.cache = cache or RulesetCache()
        self._ensured: LruCache[str, bool] = LruCache(100_000)

    # ------------------------------------------------------------------ reads

    async def ruleset(self, user_id: str) -> Ruleset:
        cached = self.cache.get(user_id)
        if cached is not None:
            return cached
        generation = self.cache.generation
        ruleset = (await self.store.db.read(load_rulesets, [user_id]))[user_id]
        self.cache.put(user_id, ruleset, generation)
        return ruleset

    async def rule(self, user_id: str, kind: str, rule_id: str) -> PushRule:
        check_kind(kind)
        found = (await self.ruleset(user_id)).find(kind, rule_id)
        if found is None:
            raise MatrixError(404, "M_NOT_FOUND", "The push rule was not found.")
        return found

    async def ensure_account_data(self, user_id: str) -> None:
        """Write ``m.push_rules`` when the user has none, or an outdated one (the
        server's defaults changed); checked once per user per process.

        The check and the write are one write transaction: a rule change racing it
        cannot be overwritten by an older ruleset."""
        if self._ensured.get(user_id):
            return

        def check(txn: Txn) -> int | None:
            expected = account_data_content(load_rulesets(txn, [user_id])[user_id])
            current = account_data_store.get_account_data(txn, user_id, None, PUSH_RULES_TYPE)
            if current == expected:
                return None
            return account_data_store.put_account_data(
                txn, user_id, None, PUSH_RULES_TYPE, expected
            )

        stream_id = await self.store.db.write(check)
        self._ensured.set(user_id, True)
        if stream_id is not None:
            self.on_account_data(user_id, stream_id)

    # ------------------------------------------------------------------ changes

    async def put_rule(self, user_id: str, change: RuleChange) -> None:
        def apply(txn: Txn) -> None:
            stored = push_rules_store.user_rules(txn, [user_id])[user_id]
            current = [r.rule_id for r in stored if r.kind == change.kind]
            order = _new_order(current, change)
            push_rules_store.upsert_rule(
                txn,
                user_id,
                change.kind,
                change.rule_id,
                len(order),
                change.conditions,
                change.pattern,
                change.actions,
            )
            push_rules_store.set_priorities(txn, user_id, change.kind, order)

        await self._write(user_id, apply)

    async def delete_rule(self, user_id: str, kind: str, rule_id: str) -> None:
        check_kind(kind)
        if is_server_default(rule_id) and default_ruleset(user_id).find(kind, rule_id):
            raise MatrixError(400, "M_UNKNOWN", "Server-default rules cannot be deleted")

        def apply(txn: Txn) -> None:
            if not push_rules_store.delete_rule(txn, user_id, kind, rule_id):
                raise MatrixError(404, "M_NOT_FOUND", "The push rule was not found.")

        await self._write(user_id, apply)

    async def set_enabled(self, user_id: str, kind: str, rule_id: str, enabled: bool) -> None:
        await self._set_attribute(user_id, kind, rule_id, enabled=enabled)

    async def set_actions(self, user_id: str, kind: str, rule_id: str, actions: Any) -> None:
        try:
            checked = list(check_actions(actions))
        except InvalidRule as exc:
            raise _invalid(exc) from None
        await self._set_attribute(user_id, kind, rule_id, actions=checked)

    async def _set_attribute(
        self,
        user_id: str,
        kind: str,
        rule_id: str,
        *,
        enabled: bool | None = None,
        actions: list[Any] | None = None,
    ) -> None:
        check_kind(kind)
        not_found = MatrixError(404, "M_NOT_FOUND", "The push rule was not found.")
        if is_server_default(rule_id):
            if default_ruleset(user_id).find(kind, rule_id) is None:
                raise not_found

            def apply(txn: Txn) -> None:
                push_rules_store.change_default(
                    txn, user_id, rule_id, enabled=enabled, actions=actions
                )

        else:

            def apply(txn: Txn) -> None:
                if enabled is not None:
                    found = push_rules_store.set_rule_enabled(txn, user_id, kind, rule_id, enabled)
                else:
                    assert actions is not None
                    found = push_rules_store.set_rule_actions(txn, user_id, kind, rule_id, actions)
                if not found:
                    raise not_found

        await self._write(user_id, apply)

    async def _write(self, user_id: str, apply: Callable[[Txn], None]) -> None:
        """Run ``apply`` and rewrite ``m.push_rules`` in one transaction, then tell the
        evaluator's cache and the user's syncs."""

        def write(txn: Txn) -> int:
            apply(txn)
            ruleset = load_rulesets(txn, [user_id])[user_id]
            return account_data_store.put_account_data(
                txn, user_id, None, PUSH_RULES_TYPE, account_data_content(ruleset)
            )

        try:
            stream_id = await self.store.db.write(write)
        finally:
            self.cache.invalidate(user_id)
        self._ensured.set(user_id, True)
        self.on_account_data(user_id, stream_id)
