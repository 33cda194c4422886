"""Registration files as bridges write them: parsing, refusals, namespace matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from appservice.registration import load_registrations
from homeserver.__main__ import main
from homeserver.config import ConfigError, load_config

GOOD = """\
id: "IRC Bridge"
url: "http://127.0.0.1:1234/"
as_token: "as-secret"
hs_token: "hs-secret"
sender_localpart: "_irc_bot"
namespaces:
  users:
    - exclusive: true
      regex: "@_irc_bridge_.*"
    - exclusive: false
      regex: "@shared_.*:example.org"
  aliases:
    - exclusive: false
      regex: "#_irc_bridge_.*"
  rooms: []
rate_limited: false
protocols: ["irc"]
de.sorunome.msc2409.push_ephemeral: true
org.matrix.msc3202: true
io.element.msc4190: true
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_file(tmp_path: Path) -> None:
    (reg,) = load_registrations([write(tmp_path, "irc.yaml", GOOD)], "example.org")
    assert reg.id == "IRC Bridge"
    assert reg.url == "http://127.0.0.1:1234"
    assert (reg.as_token, reg.hs_token) == ("as-secret", "hs-secret")
    assert reg.sender == "@_irc_bot:example.org"
    assert reg.rate_limited is False
    assert reg.protocols == ("irc",)
    assert reg.receive_ephemeral and reg.device_lists and not reg.push_to_device
    assert reg.source == tmp_path / "irc.yaml"
    assert reg.interested_in_user("@_irc_bridge_bob:example.org")
    assert reg.interested_in_user("@_irc_bot:example.org")
    assert reg.interested_in_user("@shared_x:example.org")
    assert not reg.interested_in_user("@alice:example.org")
    # Matched from the start of the id.
    assert not reg.interested_in_user("@x_irc_bridge_bob:example.org")
    assert reg.exclusive_user("@_irc_bridge_bob:example.org")
    assert reg.exclusive_user("@_irc_bot:example.org")
    assert not reg.exclusive_user("@shared_x:example.org")
    assert reg.interested_in_alias("#_irc_bridge_chan:example.org")
    assert not reg.exclusive_alias("#_irc_bridge_chan:example.org")
    assert not reg.interested_in_room_id("!abc:example.org")


def test_defaults_and_null_url(tmp_path: Path) -> None:
    text = (
        "id: bot\nurl: null\nas_token: a\nhs_token: h\nsender_localpart: bot\n"
        "namespaces:\n  rooms:\n    - exclusive: false\n      regex: '!.*:example.org'\n"
        "receive_ephemeral: false\n"
    )
    (reg,) = load_registrations([write(tmp_path, "bot.yaml", text)], "example.org")
    assert reg.url is None
    assert reg.rate_limited is True
    assert reg.users == () and reg.aliases == ()
    assert reg.interested_in_room_id("!abc:example.org")
    assert not reg.receive_ephemeral


BAD = [
    ("id: 5\n", "`id`"),
    ("", "`id`"),
    ("url: ftp://x\n", "`url`"),
    ("", "`url`"),
    ("as_token: ''\n", "`as_token`"),
    ("hs_token: [1]\n", "`hs_token`"),
    ("sender_localpart: 'a b'\n", "`sender_localpart`"),
    ("namespaces: []\n", "`namespaces`"),
    ("namespaces:\n  users: {}\n", "`namespaces.users`"),
    ("namespaces:\n  users: [5]\n", "`namespaces.users[0]`"),
    ("namespaces:\n  users: [{exclusive: true}]\n", "`namespaces.users[0].regex`"),
    ("namespaces:\n  aliases: [{regex: '#(', exclusive: true}]\n", "`namespaces.aliases[0].regex`"),
    ("namespaces:\n  rooms: [{regex: '!', exclusive: 1}]\n", "`namespaces.rooms[0].exclusive`"),
    ("rate_limited: 'no'\n", "`rate_limited`"),
    ("protocols: irc\n", "`protocols`"),
    ("receive_ephemeral: 1\n", "`receive_ephemeral`"),
]
BASE = {
    "id": "id: x\n",
    "url": "url: http://127.0.0.1:9/\n",
    "as_token": "as_token: a\n",
    "hs_token": "hs_token: h\n",
    "sender_localpart": "sender_localpart: bot\n",
    "namespaces": "namespaces: {}\n",
}


@pytest.mark.parametrize(("override", "key"), BAD)
def test_every_invalid_key_is_named(tmp_path: Path, override: str, key: str) -> None:
    name = key.strip("`").split(".")[0].split("[")[0]
    lines = [line for k, line in BASE.items() if k != name]
    path = write(tmp_path, "bad.yaml", "".join(lines) + override)
    with pytest.raises(ConfigError) as info:
        load_registrations([path], "example.org")
    message = str(info.value)
    assert message.startswith(f"{path}: {key}"), message
    assert "\n" not in message


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_registrations([write(tmp_path, "a.yaml", "id: [\n")], "example.org")
    with pytest.raises(ConfigError, match="cannot read"):
        load_registrations([tmp_path / "missing.yaml"], "example.org")
    with pytest.raises(ConfigError, match="top level"):
        load_registrations([write(tmp_path, "b.yaml", "- 1\n")], "example.org")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"hs_token": "h2", "as_token": "a2"}, "`id`"),
        ({"id": "y", "hs_token": "h2"}, "`as_token`"),
        ({"id": "y", "as_token": "a2"}, "`hs_token`"),
        ({"id": "y", "as_token": "a2", "hs_token": "h2"}, "`sender_localpart`"),
    ],
)
def test_duplicates_refused(tmp_path: Path, change: dict[str, str], key: str) -> None:
    first = write(tmp_path, "one.yaml", "".join(BASE.values()))
    second_text = "".join(
        f"{k}: {change[k]}\n" if k in change else line for k, line in BASE.items()
    )
    second = write(tmp_path, "two.yaml", second_text)
    with pytest.raises(ConfigError) as info:
        load_registrations([first, second], "example.org")
    assert str(info.value).startswith(f"{second}: {key}")
    assert str(first) in str(info.value)


def test_config_key_relative_to_config_file(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "config.yaml",
        "server_name: example.org\napp_service_config_files: ['bridges/irc.yaml']\n",
    )
    assert load_config(config).app_service_config_files == (tmp_path / "bridges/irc.yaml",)
    write(tmp_path, "c2.yaml", "server_name: a.org\napp_service_config_files: irc.yaml\n")
    with pytest.raises(ConfigError, match="`app_service_config_files`"):
        load_config(tmp_path / "c2.yaml")


def test_run_refuses_bad_registration_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    assert main(["generate-config", "--config", str(config), "--port", "0"]) == 0
    write(tmp_path, "irc.yaml", GOOD.replace('regex: "#_irc_bridge_.*"', 'regex: "#(("'))
    with config.open("a") as f:
        f.write("app_service_config_files: ['irc.yaml']\n")
    capsys.readouterr()
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "irc.yaml" in err[0] and "`namespaces.aliases[0].regex`" in err[0]
