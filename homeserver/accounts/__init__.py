"""Accounts: registration, login, tokens, devices, user-interactive auth (no HTTP).

``service.build_accounts`` wires the handlers; ``homeserver.api.client.accounts`` serves
them over HTTP and ``homeserver.api.auth`` checks access tokens with ``Authenticator``.
"""
