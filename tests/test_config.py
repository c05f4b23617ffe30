"""Settings: documented defaults, file and environment overrides, generated private secrets."""

from __future__ import annotations

import stat

import pytest
import yaml

from bridge.config import ConfigError, load_settings, write_default_config
from bridge.homeserver import render_synapse_config


def test_defaults_and_stable_private_secrets(tmp_path):
    write_default_config(tmp_path)
    first = load_settings(tmp_path, {})
    assert first.server_name == "localhost" and first.synapse.port == 8008
    assert first.database_url.startswith("sqlite+aiosqlite:///")
    mode = stat.S_IMODE((tmp_path / "secrets.yaml").stat().st_mode)
    assert mode == 0o600
    again = load_settings(tmp_path, {})
    assert again.secrets == first.secrets, "secrets are generated once, then reused"
    assert len({first.secrets.as_token, first.secrets.hs_token, first.secrets.module_secret}) == 3


def test_file_then_environment_override(tmp_path):
    write_default_config(tmp_path)
    (tmp_path / "confrere.yaml").write_text(yaml.safe_dump({"synapse": {"port": 9000}}))
    settings = load_settings(tmp_path, {"CONFRERE_SERVICE__PORT": "9100",
                                        "CONFRERE_SERVER_NAME": "confrere.example"})
    assert settings.synapse.port == 9000 and settings.service.port == 9100
    assert settings.bot_user_id == "@confrere:confrere.example"


@pytest.mark.parametrize("env", [
    {"CONFRERE_SYNAPSE__PORTT": "1"},
    {"CONFRERE_NOPE__X": "1"},
    {"CONFRERE_SYNAPSE__PORT": "not-a-number"},
    {"CONFRERE_SYNAPSE__RELAXED_RATE_LIMITS": "maybe"},
])
def test_bad_overrides_are_refused_with_the_key_named(tmp_path, env):
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, env)
    assert list(env)[0].split("__")[-1].lower() in str(info.value).lower() or "unknown" in str(info.value)


def test_unknown_key_in_file_is_refused(tmp_path):
    (tmp_path / "confrere.yaml").write_text("synapse:\n  prot: 1\n")
    with pytest.raises(ConfigError, match="prot"):
        load_settings(tmp_path, {})


def test_synapse_config_renders_registration_and_module(tmp_path):
    write_default_config(tmp_path)
    settings = load_settings(tmp_path, {})
    homeserver = yaml.safe_load(render_synapse_config(settings).read_text())
    registration = yaml.safe_load(
        (settings.synapse_dir / "appservice-confrere.yaml").read_text())
    assert homeserver["enable_registration"] is False
    assert homeserver["modules"][0]["module"] == "bridge.synapse_module.AccessRules"
    assert homeserver["modules"][0]["config"]["secret"] == settings.secrets.module_secret
    assert registration["rate_limited"] is False
    assert registration["hs_token"] == settings.secrets.hs_token
    assert set(registration["namespaces"]) == {"users", "aliases", "rooms"}
    assert (settings.synapse_dir / "signing.key").exists()
    assert stat.S_IMODE((settings.synapse_dir / "homeserver.yaml").stat().st_mode) == 0o600
