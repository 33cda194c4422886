"""Concord's own HTTP/1.1 and WebSocket server on asyncio, with llhttp (``httptools``)
parsing requests.

Why not aiohttp: importing aiohttp loads its whole client too (cookie jar, connectors,
two TLS contexts with the system CA bundle, attrs, email, urllib.request, ...), ~14 MB
of resident memory in a server that must idle in a third of Synapse's. This package is
the small part of a web framework the homeserver uses: an application with typed keys
and middlewares (``app``), a router (``routing``), requests and responses, WebSockets
(RFC 6455) and the connection protocol (``server``). ``web`` gathers the names route
modules use.
"""
