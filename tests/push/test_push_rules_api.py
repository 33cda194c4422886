"""The push rules API, and the rules reaching clients as ``m.push_rules`` in ``/sync``.

spec: client-server "Push Rules: API" (``GET /pushrules/``, ``/pushrules/global/``,
``GET|PUT|DELETE /pushrules/global/{kind}/{ruleId}``, ``/enabled``, ``/actions``),
"Push Rules: Events".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeserver.appkeys import PUSH_KEY, STORE_KEY

from ..support.matrix_client import Server, User, q

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "push" / "default_rules_v1.19.json"
RULES = "/pushrules/global"


def spec_defaults(user_id: str) -> dict[str, Any]:
    text = FIXTURE.read_text(encoding="utf-8")
    return dict(json.loads(text.replace("[the user's Matrix ID]", user_id)))


async def rules(user: User) -> dict[str, Any]:
    body: dict[str, Any] = (await user.call("GET", "/pushrules/")).ok()
    assert set(body) == {"global"}
    return dict(body["global"])


def ids(ruleset: dict[str, Any], kind: str) -> list[str]:
    return [rule["rule_id"] for rule in ruleset[kind]]


async def put(user: User, kind: str, rule_id: str, body: Any, **params: str) -> Any:
    return await user.call("PUT", f"{RULES}/{kind}/{q(rule_id)}", body, params=params or None)


def push_rules_in(sync: dict[str, Any]) -> dict[str, Any] | None:
    for event in sync["account_data"]["events"]:
        if event["type"] == "m.push_rules":
            return dict(event["content"])
    return None


async def test_a_new_user_has_the_spec_defaults(alice: User) -> None:
    assert await rules(alice) == spec_defaults(alice.user_id)
    assert (await alice.call("GET", f"{RULES}/")).ok() == spec_defaults(alice.user_id)
    master = (await alice.call("GET", f"{RULES}/override/.m.rule.master")).ok()
    assert master == {
        "rule_id": ".m.rule.master",
        "default": True,
        "enabled": False,
        "conditions": [],
        "actions": [],
    }
    assert (await alice.call("GET", f"{RULES}/override/.m.rule.master/enabled")).ok() == {
        "enabled": False
    }
    assert (await alice.call("GET", f"{RULES}/underride/.m.rule.message/actions")).ok() == {
        "actions": ["notify"]
    }
    assert (await alice.call("GET", f"{RULES}/underride/")).ok() == spec_defaults(alice.user_id)[
        "underride"
    ]
    # A default rule exists under its own kind only.
    missing = await alice.call("GET", f"{RULES}/underride/.m.rule.master")
    assert (missing.status, missing.errcode) == (404, "M_NOT_FOUND")
    unknown = await alice.call("GET", f"{RULES}/room/{q('!nope:test.local')}")
    assert (unknown.status, unknown.errcode) == (404, "M_NOT_FOUND")
    no_auth = await alice.call("GET", "/pushrules/", auth=False)
    assert (no_auth.status, no_auth.errcode) == (401, "M_MISSING_TOKEN")


async def test_user_rules_are_created_ordered_and_deleted(alice: User) -> None:
    cond = [{"kind": "event_match", "key": "content.body", "pattern": "beer"}]
    for rule_id in ("a", "b"):
        (await put(alice, "override", rule_id, {"actions": ["notify"], "conditions": cond})).ok()
    # A new rule is the most important user rule, below .m.rule.master only.
    assert ids(await rules(alice), "override")[:3] == [".m.rule.master", "b", "a"]
    (await put(alice, "override", "c", {"actions": []}, after="a")).ok()
    (await put(alice, "override", "d", {"actions": []}, before="b")).ok()
    assert ids(await rules(alice), "override")[1:5] == ["d", "b", "a", "c"]
    # An update without before/after keeps its place; with them, it moves.
    (await put(alice, "override", "a", {"actions": ["notify"], "conditions": []})).ok()
    assert ids(await rules(alice), "override")[1:5] == ["d", "b", "a", "c"]
    (await put(alice, "override", "c", {"actions": []}, before="d")).ok()
    assert ids(await rules(alice), "override")[1:5] == ["c", "d", "b", "a"]
    # Both given: the rule goes just above ``before``.
    (await put(alice, "override", "a", {"actions": []}, before="b", after="c")).ok()
    assert ids(await rules(alice), "override")[1:5] == ["c", "d", "a", "b"]
    # The defaults follow the user's rules.
    assert ids(await rules(alice), "override")[5] == ".m.rule.suppress_notices"

    rule = (await alice.call("GET", f"{RULES}/override/a")).ok()
    assert rule == {
        "rule_id": "a",
        "default": False,
        "enabled": True,
        "conditions": [],
        "actions": [],
    }
    (await put(alice, "content", "cake", {"actions": ["notify"], "pattern": "cake*lie"})).ok()
    (await put(alice, "room", "!r:test.local", {"actions": []})).ok()
    (await put(alice, "sender", "@spam:test.local", {"actions": ["dont_notify"]})).ok()
    ruleset = await rules(alice)
    assert ruleset["content"] == [
        {
            "rule_id": "cake",
            "default": False,
            "enabled": True,
            "actions": ["notify"],
            "pattern": "cake*lie",
        }
    ]
    assert ruleset["room"] == [
        {"rule_id": "!r:test.local", "default": False, "enabled": True, "actions": []}
    ]
    assert ruleset["sender"][0]["actions"] == ["dont_notify"]  # kept as sent

    (await alice.call("DELETE", f"{RULES}/override/d")).ok()
    assert "d" not in ids(await rules(alice), "override")
    again = await alice.call("DELETE", f"{RULES}/override/d")
    assert (again.status, again.errcode) == (404, "M_NOT_FOUND")
    default = await alice.call("DELETE", f"{RULES}/override/.m.rule.master")
    assert (default.status, default.errcode) == (400, "M_UNKNOWN")
    assert ids(await rules(alice), "override")[0] == ".m.rule.master"


async def test_bad_rules_are_refused_and_change_nothing(alice: User) -> None:
    (await put(alice, "override", "keep", {"actions": ["notify"]})).ok()
    before = await rules(alice)
    cases: list[tuple[str, str, Any, dict[str, str], int, str]] = [
        ("nonsense", "x", {"actions": []}, {}, 400, "M_INVALID_PARAM"),
        ("override", ".m.rule.master", {"actions": []}, {}, 400, "M_UNKNOWN"),
        ("override", ".mine", {"actions": []}, {}, 400, "M_UNKNOWN"),
        ("override", "a/b", {"actions": []}, {}, 400, "M_UNKNOWN"),
        ("override", "a\\b", {"actions": []}, {}, 400, "M_UNKNOWN"),
        ("override", "x", {}, {}, 400, "M_MISSING_PARAM"),
        ("override", "x", {"actions": "notify"}, {}, 400, "M_INVALID_PARAM"),
        ("override", "x", {"actions": ["notify_loudly"]}, {}, 400, "M_INVALID_PARAM"),
        (
            "override",
            "x",
            {"actions": [], "conditions": [{"key": "a"}]},
            {},
            400,
            "M_INVALID_PARAM",
        ),
        ("override", "x", {"actions": [], "conditions": {}}, {}, 400, "M_INVALID_PARAM"),
        ("content", "x", {"actions": []}, {}, 400, "M_MISSING_PARAM"),
        ("content", "x", {"actions": [], "pattern": 5}, {}, 400, "M_INVALID_PARAM"),
        ("override", "x", {"actions": []}, {"before": "nope"}, 400, "M_UNKNOWN"),
        ("override", "x", {"actions": []}, {"after": "nope"}, 400, "M_UNKNOWN"),
        ("override", "x", {"actions": []}, {"before": ".m.rule.master"}, 400, "M_UNKNOWN"),
        ("underride", "x", {"actions": []}, {"after": "keep"}, 400, "M_UNKNOWN"),
        ("override", "x", [], {}, 400, "M_BAD_JSON"),
    ]
    for kind, rule_id, body, params, status, errcode in cases:
        reply = await put(alice, kind, rule_id, body, **params)
        assert (reply.status, reply.errcode) == (status, errcode), (kind, rule_id, body, reply)
    not_json = await alice.call("PUT", f"{RULES}/override/x", raw=b"{nope")
    assert (not_json.status, not_json.errcode) == (400, "M_NOT_JSON")
    unknown_kind = await alice.call("GET", f"{RULES}/nonsense/x")
    assert (unknown_kind.status, unknown_kind.errcode) == (400, "M_INVALID_PARAM")
    assert await rules(alice) == before


async def test_enabled_and_actions(alice: User) -> None:
    master = f"{RULES}/override/.m.rule.master"
    (await alice.call("PUT", f"{master}/enabled", {"enabled": True})).ok()
    assert (await alice.call("GET", f"{master}/enabled")).ok() == {"enabled": True}
    (await alice.call("PUT", f"{RULES}/underride/.m.rule.message/actions", {"actions": []})).ok()
    ruleset = await rules(alice)
    assert ruleset["override"][0]["enabled"] is True
    message = next(r for r in ruleset["underride"] if r["rule_id"] == ".m.rule.message")
    assert message == {**message, "actions": [], "default": True, "enabled": True}
    # Changing one attribute of a default keeps the other.
    (await alice.call("PUT", f"{master}/actions", {"actions": ["notify"]})).ok()
    assert (await alice.call("GET", master)).ok()["enabled"] is True

    (await put(alice, "room", "!r:test.local", {"actions": ["notify"]})).ok()
    room_rule = f"{RULES}/room/{q('!r:test.local')}"
    (await alice.call("PUT", f"{room_rule}/enabled", {"enabled": False})).ok()
    assert (await alice.call("GET", f"{room_rule}/enabled")).ok() == {"enabled": False}
    # Updating the rule keeps it disabled; the new actions apply.
    (await put(alice, "room", "!r:test.local", {"actions": []})).ok()
    assert (await alice.call("GET", room_rule)).ok() == {
        "rule_id": "!r:test.local",
        "default": False,
        "enabled": False,
        "actions": [],
    }
    (await alice.call("PUT", f"{room_rule}/actions", {"actions": ["notify"]})).ok()
    assert (await alice.call("GET", f"{room_rule}/actions")).ok() == {"actions": ["notify"]}

    before = await rules(alice)
    errors: list[tuple[str, str, Any, int, str]] = [
        ("PUT", f"{master}/enabled", {}, 400, "M_MISSING_PARAM"),
        ("PUT", f"{master}/enabled", {"enabled": "yes"}, 400, "M_INVALID_PARAM"),
        ("PUT", f"{master}/actions", {}, 400, "M_MISSING_PARAM"),
        ("PUT", f"{master}/actions", {"actions": [3]}, 400, "M_INVALID_PARAM"),
        ("PUT", f"{RULES}/underride/.m.rule.master/enabled", {"enabled": True}, 404, "M_NOT_FOUND"),
        ("PUT", f"{RULES}/override/.m.rule.nope/actions", {"actions": []}, 404, "M_NOT_FOUND"),
        ("PUT", f"{RULES}/override/nope/enabled", {"enabled": True}, 404, "M_NOT_FOUND"),
        ("GET", f"{RULES}/override/nope/actions", None, 404, "M_NOT_FOUND"),
        ("PUT", f"{RULES}/nonsense/x/enabled", {"enabled": True}, 400, "M_INVALID_PARAM"),
    ]
    for method, path, body, status, errcode in errors:
        reply = await alice.call(method, path, body)
        assert (reply.status, reply.errcode) == (status, errcode), (path, body, reply)
    assert await rules(alice) == before


async def test_rules_are_m_push_rules_account_data_in_sync(alice: User, bob: User) -> None:
    first = await alice.sync()
    content = push_rules_in(first)
    assert content == {"global": spec_defaults(alice.user_id)}
    # Incremental syncs carry it again only when it changes.
    since = first["next_batch"]
    quiet = await alice.sync(since)
    assert push_rules_in(quiet) is None
    (await put(alice, "room", "!r:test.local", {"actions": []})).ok()
    changed = await alice.sync(since, timeout=5000)
    content = push_rules_in(changed)
    assert content is not None
    assert content["global"] == await rules(alice)
    assert ids(content["global"], "room") == ["!r:test.local"]
    # Only the server writes it (spec: "Client Config" / server-managed types).
    direct = await alice.call("PUT", f"/user/{q(alice.user_id)}/account_data/m.push_rules", {})
    assert direct.status == 405
    # A user who never synced gets it on their first GET /pushrules/ too.
    await rules(bob)
    stored = await bob.call("GET", f"/user/{q(bob.user_id)}/account_data/m.push_rules")
    assert stored.ok() == {"global": spec_defaults(bob.user_id)}


async def test_stale_m_push_rules_is_rewritten_once(server: Server, alice: User) -> None:
    """After a restart (or a server upgrade changing the defaults) the stored
    ``m.push_rules`` is checked on the user's first GET or initial sync, and rewritten
    only when it differs."""
    store = server.app[STORE_KEY]
    handler = server.app[PUSH_KEY].rules
    await rules(alice)
    position = await store.account_data.max_stream_id()
    handler._ensured.clear()  # as after a restart
    await alice.sync()
    assert await store.account_data.max_stream_id() == position  # unchanged: not rewritten
    await store.account_data.put(alice.user_id, None, "m.push_rules", {"global": {}})
    handler._ensured.clear()
    first = await alice.sync()
    assert push_rules_in(first) == {"global": spec_defaults(alice.user_id)}
