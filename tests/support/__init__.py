"""Helpers shared by the test packages: a Matrix client over the test server."""
