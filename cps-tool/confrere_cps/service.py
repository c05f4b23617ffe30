"""Talking to the Confrère service: the address check and JSON over HTTPS (stdlib only).

Plain http is accepted only for this computer itself (tests, demos): the one-time code and the
signed answer must not travel in clear over a network.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit


class ServiceError(Exception):
    """A refusal or an unreachable service; exit 1 refused, 2 bad address, 5 otherwise."""

    def __init__(self, message_fr: str, exit_code: int = 5) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr
        self.exit_code = exit_code


def service_base(url: str) -> str:
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServiceError(
            "Adresse du service invalide : recopiez la commande donnée par le robot. "
            "(Invalid service address.)",
            2,
        )
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ServiceError(
            "Le service doit être joint en https (seul « localhost » est accepté en http). "
            "(https required.)",
            2,
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def post_json(url: str, body: dict, timeout: float = 30) -> dict:
    """POST JSON; a refusal comes back as ServiceError with the service's French message."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            payload = json.loads(exc.read() or b"{}")
        except ValueError:
            payload = {}
        message = payload.get("message_fr") or f"Le service a refusé la demande ({exc.code})."
        raise ServiceError(message, 1 if payload.get("status") == "refused" else 5) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ServiceError(
            "Le service Confrère est injoignable à cette adresse ; vérifiez "
            "votre connexion et recommencez. (Service unreachable.)"
        ) from exc
