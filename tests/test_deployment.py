"""docker-compose.yml cannot run here (no Docker engine): check it agrees with the code."""

from __future__ import annotations

from pathlib import Path

import yaml

from bridge.cli import build_parser
from bridge.config import load_settings, write_default_config
from bridge.homeserver import TEMPLATES_DIR, render_synapse_config

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_commands_exist():
    compose = _compose()
    services = compose["services"]
    assert {"postgres", "redis", "synapse", "confrere", "init"} <= set(services)
    verbs = build_parser()._subparsers._group_actions[0].choices
    for name in ("init", "confrere"):
        command = services[name]["command"]
        assert command[:3] == ["confrere", "--data", "/data"] and command[3] in verbs
    for mount in services["postgres"]["volumes"]:
        source = mount.split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source).exists(), source
    assert (ROOT / "Dockerfile").exists()


def test_compose_environment_renders_worker_topology(tmp_path):
    compose = _compose()
    env = {k: str(v).replace("${CONFRERE_SERVER_NAME:-", "").rstrip("}")
           for k, v in compose["x-confrere-env"].items()}
    env = {k: (v.split(":-", 1)[-1].rstrip("}") if "${" in v else v) for k, v in env.items()}
    write_default_config(tmp_path)
    settings = load_settings(tmp_path, env)
    homeserver = yaml.safe_load(render_synapse_config(settings).read_text())
    assert homeserver["database"]["name"] == "psycopg2"
    assert homeserver["redis"]["host"] == "redis"
    assert homeserver["modules"][0]["config"]["service_url"] == "http://confrere:8009"
    assert homeserver["instance_map"]["main"]["port"] == settings.synapse.replication_port
    worker = yaml.safe_load((settings.synapse_dir / "worker1.yaml").read_text())
    assert worker["worker_name"] == "worker1"
    synapse_cmd = compose["services"]["synapse"]["command"]
    assert synapse_cmd[-1] == "/data/synapse/homeserver.yaml"
    worker_cmd = compose["services"]["synapse-worker1"]["command"]
    assert worker_cmd[-1] == "/data/synapse/worker1.yaml"
    assert (TEMPLATES_DIR / "worker.yaml.j2").exists()
