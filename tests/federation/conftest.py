"""Fixtures of the federation tests: ``federation`` starts federating Concord servers."""

from __future__ import annotations

from ..support.federation import federation

__all__ = ["federation"]
