"""Renders Synapse's configuration from the templates in `synapse-config/`.

Rendered at every start from confrere.yaml and secrets.yaml, so the templates stay the single
source of truth (docker-compose mounts the same ones). Synapse's signing key is generated once.
"""

from __future__ import annotations

import io
import os
import re
import urllib.parse
from pathlib import Path

import jinja2
from signedjson.key import generate_signing_key, write_signing_keys

from bridge.config import Settings
from bridge.sso import synapse_context
from bridge.storage.private_files import write_private

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "synapse-config"


def registration_path(settings: Settings) -> Path:
    return settings.synapse_dir / "appservice-confrere.yaml"


def homeserver_config_path(settings: Settings) -> Path:
    return settings.synapse_dir / "homeserver.yaml"


def _postgres_args(url: str) -> dict | None:
    if not url:
        return None
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise ValueError("synapse.database_url must be a postgresql:// URL or empty for SQLite")
    return {
        "user": urllib.parse.unquote(parsed.username or "postgres"),
        "password": urllib.parse.unquote(parsed.password or ""),
        "database": parsed.path.lstrip("/") or "synapse",
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
    }


def _redis_args(url: str) -> dict | None:
    if not url:
        return None
    parsed = urllib.parse.urlparse(url)
    return {"host": parsed.hostname or "127.0.0.1", "port": parsed.port or 6379}


def template_context(settings: Settings) -> dict:
    """Everything the templates may use; derived from settings, nothing hand-kept."""
    server = re.escape(settings.server_name)
    return {
        "server_name": settings.server_name,
        "public_baseurl": settings.synapse.client_url.rstrip("/") + "/",
        "host": settings.synapse.host,
        "port": settings.synapse.port,
        "x_forwarded": bool(settings.synapse.public_url),
        "replication_port": settings.synapse.replication_port if settings.synapse.workers else None,
        "workers": [f"worker{i + 1}" for i in range(settings.synapse.workers)],
        "synapse_dir": str(settings.synapse_dir),
        "logs_dir": str(settings.logs_dir),
        "level": settings.logging.level,
        "postgres": _postgres_args(settings.synapse.database_url),
        "redis": _redis_args(settings.synapse.redis_url),
        "secrets": settings.secrets,
        "retention_days": settings.synapse.retention_days,
        "retention_max_days": max(settings.synapse.retention_max_days,
                                  settings.synapse.retention_days),
        "day_ms": 24 * 3600 * 1000,
        "registration_path": str(registration_path(settings)),
        "service_url": settings.service.internal,
        "bot_user_id": settings.bot_user_id,
        "sender_localpart": settings.appservice.sender_localpart,
        "sender_user_id": settings.appservice_sender_id,
        "ghost_prefix": settings.appservice.ghost_prefix,
        "ghost_regex": f"@{re.escape(settings.appservice.ghost_prefix)}.*:{server}",
        "bot_regex": f"@{re.escape(settings.bot.localpart)}:{server}",
        "cache_seconds": settings.access_rules.cache_seconds,
        "timeout_seconds": settings.access_rules.timeout_seconds,
        "relaxed_rate_limits": settings.synapse.relaxed_rate_limits,
        "sso": synapse_context(settings),
    }


def render_synapse_config(settings: Settings) -> Path:
    """Write homeserver.yaml, log.yaml and the appservice registration; return homeserver.yaml."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    context = template_context(settings)
    settings.synapse_dir.mkdir(parents=True, exist_ok=True)
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    (settings.synapse_dir / "media_store").mkdir(exist_ok=True)
    outputs = {
        "homeserver.yaml.j2": homeserver_config_path(settings),
        "log.yaml.j2": settings.synapse_dir / "log.yaml",
        "appservice-registration.yaml.j2": registration_path(settings),
    }
    for name in context["workers"]:
        outputs["worker.yaml.j2"] = settings.synapse_dir / f"{name}.yaml"
        _write_private(outputs.pop("worker.yaml.j2"),
                       env.get_template("worker.yaml.j2").render(worker_name=name, **context))
    for template, target in outputs.items():
        _write_private(target, env.get_template(template).render(**context))
    _ensure_signing_key(settings.synapse_dir / "signing.key")
    return homeserver_config_path(settings)


def _ensure_signing_key(path: Path) -> None:
    if path.exists():
        return
    key = generate_signing_key("a_" + os.urandom(3).hex())
    rendered = io.StringIO()
    write_signing_keys(rendered, [key])
    write_private(path, rendered.getvalue())


def _write_private(path: Path, text: str) -> None:
    """Rendered files hold secrets: readable by the owner only."""
    write_private(path, text)
