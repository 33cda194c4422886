"""The Concord layer, pure: event schemas, the guild model and the permission compiler.

Nothing here does I/O, reads the clock or touches asyncio (DESIGN.md "Concord layer";
tests/test_import_rules.py checks it). The steward and the HTTP routes call into it.
"""
