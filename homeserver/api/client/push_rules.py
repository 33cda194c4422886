"""Push rules.

spec: client-server "Push Rules: API": ``GET /pushrules/``, ``GET /pushrules/global/``,
``GET|PUT|DELETE /pushrules/global/{kind}/{ruleId}`` and its ``/enabled`` and
``/actions``.
"""

from __future__ import annotations

from homeserver.api.responses import json_response
from homeserver.appkeys import PUSH_KEY
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.push.rules import parse_rule_change

from ..auth import require_user
from ..request_body import json_object
from .sync import client_paths


async def get_all(request: web.Request) -> web.Response:
    requester = await require_user(request)
    rules = request.app[PUSH_KEY].rules
    await rules.ensure_account_data(requester.user_id)
    ruleset = await rules.ruleset(requester.user_id)
    return json_response({"global": ruleset.to_json()})


async def get_global(request: web.Request) -> web.Response:
    requester = await require_user(request)
    rules = request.app[PUSH_KEY].rules
    await rules.ensure_account_data(requester.user_id)
    return json_response((await rules.ruleset(requester.user_id)).to_json())


async def get_kind(request: web.Request) -> web.Response:
    requester = await require_user(request)
    kind = request.match_info["kind"]
    ruleset = (await request.app[PUSH_KEY].rules.ruleset(requester.user_id)).to_json()
    if kind not in ruleset:
        raise MatrixError(400, "M_INVALID_PARAM", f"Unknown push rule kind {kind!r}")
    return json_response(ruleset[kind])


async def get_rule(request: web.Request) -> web.Response:
    requester = await require_user(request)
    info = request.match_info
    rule = await request.app[PUSH_KEY].rules.rule(requester.user_id, info["kind"], info["ruleId"])
    return json_response(rule.to_json())


def _query_rule_id(request: web.Request, name: str) -> str | None:
    return request.query.get(name) or None


async def put_rule(request: web.Request) -> web.Response:
    requester = await require_user(request)
    info = request.match_info
    body = await json_object(request)
    change = parse_rule_change(
        info["kind"],
        info["ruleId"],
        body,
        _query_rule_id(request, "before"),
        _query_rule_id(request, "after"),
    )
    await request.app[PUSH_KEY].rules.put_rule(requester.user_id, change)
    return json_response({})


async def delete_rule(request: web.Request) -> web.Response:
    requester = await require_user(request)
    info = request.match_info
    await request.app[PUSH_KEY].rules.delete_rule(requester.user_id, info["kind"], info["ruleId"])
    return json_response({})


async def get_enabled(request: web.Request) -> web.Response:
    requester = await require_user(request)
    info = request.match_info
    rule = await request.app[PUSH_KEY].rules.rule(requester.user_id, info["kind"], info["ruleId"])
    return json_response({"enabled": rule.enabled})


async def put_enabled(request: web.Request) -> web.Response:
    requester = await require_user(request)
    info = request.match_info
    body = await json_object(request)
    if "enabled" not in body:
        raise MatrixError(400, "M_MISSING_PARAM", "`enabled` is required")
    enabled = body["enabled"]
    if not isinstance(enabled, bool):
        raise MatrixError(400, "M_INVALID_PARAM", "`enabled` must be true or false")
    await request.app[PUSH_KEY].rules.set_enabled(
        requester.user_id, info["kind"], info["ruleId"], enabled
    )
    return json_response({})


async def get_actions(request: web.Request) -> web.Response:
    requester = await require_user(request)
    info = request.match_info
    rule = await request.app[PUSH_KEY].rules.rule(requester.user_id, info["kind"], info["ruleId"])
    return json_response({"actions": list(rule.actions)})


async def put_actions(request: web.Request) -> web.Response:
    requester = await require_user(request)
    info = request.match_info
    body = await json_object(request)
    if "actions" not in body:
        raise MatrixError(400, "M_MISSING_PARAM", "`actions` is required")
    await request.app[PUSH_KEY].rules.set_actions(
        requester.user_id, info["kind"], info["ruleId"], body["actions"]
    )
    return json_response({})


def routes() -> list[web.RouteDef]:
    rule = "/pushrules/global/{kind}/{ruleId}"
    return [
        *(web.get(p, get_all) for p in client_paths("/pushrules/")),
        *(web.get(p, get_global) for p in client_paths("/pushrules/global/")),
        *(web.get(p, get_kind) for p in client_paths("/pushrules/global/{kind}/")),
        *(web.get(p, get_rule) for p in client_paths(rule)),
        *(web.put(p, put_rule) for p in client_paths(rule)),
        *(web.delete(p, delete_rule) for p in client_paths(rule)),
        *(web.get(p, get_enabled) for p in client_paths(rule + "/enabled")),
        *(web.put(p, put_enabled) for p in client_paths(rule + "/enabled")),
        *(web.get(p, get_actions) for p in client_paths(rule + "/actions")),
        *(web.put(p, put_actions) for p in client_paths(rule + "/actions")),
    ]
