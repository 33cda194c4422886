"""The command line of ``concord`` / ``python -m homeserver``: subcommands with
``--option value`` (or ``--option=value``), flags and positionals.

Not argparse: its help formatter imports shutil, and with it zlib, bz2 and lzma, close to
a megabyte resident in every serving process for a three-command CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


class UsageError(Exception):
    """Bad command line: the message names what is wrong."""


@dataclass(frozen=True)
class Option:
    name: str  # "--config"
    help: str
    default: str | None = None
    flag: bool = False  # takes no value: True when given


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Option, ...] = ()
    positionals: tuple[tuple[str, str], ...] = ()  # (name, help)


@dataclass
class Parsed:
    command: str
    values: dict[str, str | bool | None] = field(default_factory=dict)

    def text(self, key: str) -> str | None:
        value = self.values.get(key)
        return value if isinstance(value, str) else None

    def flag(self, key: str) -> bool:
        return self.values.get(key) is True


def _key(name: str) -> str:
    return name.lstrip("-").replace("-", "_")


def usage(prog: str, commands: Sequence[Command]) -> str:
    lines = [f"usage: {prog} {{{','.join(c.name for c in commands)}}} [options]", ""]
    for command in commands:
        args = " ".join(f"<{name}>" for name, _ in command.positionals)
        lines.append(f"  {command.name} {args}".rstrip() + f"    {command.help}")
        for name, text in command.positionals:
            lines.append(f"      <{name}>  {text}")
        for option in command.options:
            value = "" if option.flag else " VALUE"
            default = f" (default: {option.default})" if option.default is not None else ""
            lines.append(f"      {option.name}{value}  {option.help}{default}")
    return "\n".join(lines)


def parse(commands: Sequence[Command], argv: Sequence[str]) -> Parsed:
    """Raises ``UsageError``; ``-h``/``--help`` anywhere gives the command ``help``."""
    if any(arg in ("-h", "--help") for arg in argv):
        return Parsed("help")
    if not argv:
        raise UsageError("a command is required")
    by_name = {c.name: c for c in commands}
    command = by_name.get(argv[0])
    if command is None:
        raise UsageError(f"unknown command {argv[0]!r}")
    options = {o.name: o for o in command.options}
    parsed = Parsed(command.name, {_key(o.name): o.default for o in command.options})
    if any(o.flag for o in command.options):
        parsed.values.update({_key(o.name): False for o in command.options if o.flag})
    positionals: list[str] = []
    rest = list(argv[1:])
    while rest:
        arg = rest.pop(0)
        if not arg.startswith("--"):
            positionals.append(arg)
            continue
        name, has_value, value = arg.partition("=")
        option = options.get(name)
        if option is None:
            raise UsageError(f"{command.name}: unknown option {name}")
        if option.flag:
            if has_value:
                raise UsageError(f"{command.name}: {name} takes no value")
            parsed.values[_key(name)] = True
            continue
        if not has_value:
            if not rest:
                raise UsageError(f"{command.name}: {name} needs a value")
            value = rest.pop(0)
        parsed.values[_key(name)] = value
    if len(positionals) != len(command.positionals):
        wanted = " ".join(f"<{n}>" for n, _ in command.positionals) or "no arguments"
        raise UsageError(f"{command.name}: expected {wanted}")
    for (name, _), value in zip(command.positionals, positionals, strict=True):
        parsed.values[name] = value
    return parsed
