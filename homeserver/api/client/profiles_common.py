"""What the profile, user-directory, OpenID, capabilities and report routes share: their
handlers' app key."""

from __future__ import annotations

from dataclasses import dataclass

from homeserver.accounts.openid import OpenIdTokens
from homeserver.http import web
from homeserver.profiles.directory import UserDirectory
from homeserver.profiles.handler import ProfileHandler
from homeserver.rooms.reports import ReportHandler


@dataclass(frozen=True, slots=True)
class UserHandlers:
    profiles: ProfileHandler
    directory: UserDirectory
    openid: OpenIdTokens
    reports: ReportHandler


USER_HANDLERS_KEY = web.AppKey("user_handlers", UserHandlers)


def user_handlers(request: web.Request) -> UserHandlers:
    return request.config_dict[USER_HANDLERS_KEY]
