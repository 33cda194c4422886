"""Wires the accounts handlers from the config, the store and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from homeserver.clock import Clock
from homeserver.config import Config
from homeserver.storage.accounts_store import AccountsStore

from .account import Account
from .authenticator import Authenticator
from .devices import Devices
from .hooks import AccountHooks
from .jwt_auth import JwtVerifier
from .login import Login
from .passwords import PasswordHasher
from .registration import Registration
from .sessions import Sessions
from .uia import UserInteractiveAuth
from .user_auth import UserAuth


@dataclass(frozen=True, slots=True)
class Accounts:
    authenticator: Authenticator
    hooks: AccountHooks
    hasher: PasswordHasher
    sessions: Sessions
    registration: Registration
    login: Login
    devices: Devices
    account: Account
    user_auth: UserAuth  # re-confirming a logged-in user (UIA), for other modules too


def build_accounts(config: Config, store: AccountsStore, clock: Clock) -> Accounts:
    hooks = AccountHooks()
    authenticator = Authenticator(store, clock)
    hasher = PasswordHasher(config.bcrypt_rounds)
    uia = UserInteractiveAuth(clock)
    jwt = JwtVerifier(config.jwt, config.server_name, clock)
    sessions = Sessions(
        store,
        clock,
        authenticator,
        hooks,
        refreshable_lifetime_ms=config.refreshable_access_token_lifetime_ms,
    )
    user_auth = UserAuth(uia, store, hasher, jwt, config.server_name)
    return Accounts(
        authenticator=authenticator,
        hooks=hooks,
        hasher=hasher,
        sessions=sessions,
        registration=Registration(
            server_name=config.server_name,
            enable_registration=config.enable_registration,
            registration_tokens=config.registration_tokens,
            store=store,
            clock=clock,
            hasher=hasher,
            sessions=sessions,
            uia=uia,
            appservices=authenticator.appservices,
        ),
        login=Login(
            server_name=config.server_name,
            store=store,
            clock=clock,
            hasher=hasher,
            jwt=jwt,
            sessions=sessions,
            appservices=authenticator.appservices,
        ),
        devices=Devices(store, sessions, user_auth, hooks),
        account=Account(store, hasher, sessions, authenticator, user_auth, hooks),
        user_auth=user_auth,
    )
