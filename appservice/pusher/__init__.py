"""Pushing events, ephemeral data and to-device messages to application services."""
