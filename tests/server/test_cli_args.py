"""The command-line parser of ``concord`` (homeserver/cli_args.py)."""

from __future__ import annotations

import pytest

from homeserver.cli_args import Command, Option, UsageError, parse, usage

COMMANDS = (
    Command("run", "serve", (Option("--config", "config file", "data/config.yaml"),)),
    Command(
        "add",
        "add a user",
        (Option("--password", "password"), Option("--admin", "admin", flag=True)),
        (("username", "the name"),),
    ),
)


def test_defaults_values_and_both_option_forms() -> None:
    assert parse(COMMANDS, ["run"]).text("config") == "data/config.yaml"
    assert parse(COMMANDS, ["run", "--config", "a.yaml"]).text("config") == "a.yaml"
    assert parse(COMMANDS, ["run", "--config=b.yaml"]).text("config") == "b.yaml"


def test_flags_and_positionals_in_any_order() -> None:
    parsed = parse(COMMANDS, ["add", "--admin", "alice", "--password", "pw"])
    assert parsed.command == "add"
    assert parsed.text("username") == "alice" and parsed.text("password") == "pw"
    assert parsed.flag("admin") is True
    assert parse(COMMANDS, ["add", "bob"]).flag("admin") is False


def test_help_anywhere() -> None:
    assert parse(COMMANDS, ["run", "--help"]).command == "help"
    assert parse(COMMANDS, ["-h"]).command == "help"
    assert "add <username>" in usage("concord", COMMANDS)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["serve"],
        ["run", "--port", "1"],
        ["run", "--config"],
        ["run", "extra"],
        ["add"],
        ["add", "a", "b"],
        ["add", "a", "--admin=yes"],
    ],
)
def test_bad_command_lines_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(UsageError):
        parse(COMMANDS, argv)
