"""`confrere cps-verify --service URL --code CODE`: prove one's identity with a CPS card.

Runs on the practitioner's computer, not on the server, so it needs no data directory or
configuration: the bot's message gives the service address and the one-time code. Order
matters for the practitioner: everything that can fail at the card (no reader, no card, wrong
PIN, blocked card) happens before the code is spent, so a retry needs no new code.

Exit codes: 0 verified; 1 refused by the service; 2 bad arguments or service address;
3 reader or card problem; 4 PIN problem; 5 service unreachable or challenge refused.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import ipaddress
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from bridge.cps import protocol
from bridge.cps.reader import CardError, CpsCard, list_readers

DEFAULT_TIMEOUT = 60.0
PIN_PROMPT = "Code PIN de votre carte CPS (il ne s'affiche pas) : "


class ServiceError(Exception):
    def __init__(self, message_fr: str, exit_code: int = 5) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr
        self.exit_code = exit_code


def register(verbs) -> None:
    verb = verbs.add_parser(
        "cps-verify", help="vérifier votre identité avec votre carte CPS et un lecteur"
    )
    verb.add_argument("--service", required=True, help="adresse du service (donnée par le robot)")
    verb.add_argument("--code", required=True, help="code à usage unique (donné par le robot)")
    verb.add_argument("--reader", help="nom (ou début du nom) du lecteur à utiliser")
    verb.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="secondes d'attente de la carte (défaut 60)",
    )
    verb.set_defaults(func=command, standalone=True)


def command(args: argparse.Namespace) -> int:
    return run(args.service, args.code, reader_name=args.reader, timeout=args.timeout)


def run(
    service: str,
    code: str,
    *,
    reader_name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    ask_pin: Callable[[], str] | None = None,
    out: Callable[[str], None] = print,
) -> int:
    """The whole check; `ask_pin` replaces the terminal prompt in tests (never a real PIN)."""
    try:
        base = service_base(service)
    except ServiceError as exc:
        out(exc.message_fr)
        return exc.exit_code
    normalised = protocol.normalise_code(code)
    if len(normalised) != protocol.CODE_LENGTH:
        out(
            "Ce code ne ressemble pas à celui donné par le robot (10 caractères, par exemple "
            "ABCDE-12345). Demandez-en un avec !verifier cps."
        )
        return 2
    card = None
    try:
        readers = list_readers()
        if reader_name:
            readers = [r for r in readers if str(r).startswith(reader_name)]
            if not readers:
                out(f"Aucun lecteur nommé « {reader_name} ».")
                return 3
        out("Lecteurs : " + ", ".join(str(r) for r in readers))
        out("En attente de votre carte CPS…")
        card = CpsCard.wait(readers, timeout)
        certificate = card.read_certificate()
        out(f"Carte CPS trouvée dans « {card.reader_name} » : {_holder(certificate)}")
        tries = card.pin_tries_left()
        if tries is not None and tries < 3:
            out(f"Attention : il reste {tries} essai(s) de code PIN avant le blocage.")
        card.verify_pin((ask_pin or _prompt_pin)())
        challenge = post_json(base + protocol.CHALLENGE_PATH, {"code": normalised})
        user_id, nonce = str(challenge["user_id"]), str(challenge["challenge"])
        signature = card.authenticate(protocol.signed_message(user_id, nonce))
        answer = post_json(
            base + protocol.RESPONSE_PATH,
            {
                "user_id": user_id,
                "challenge": nonce,
                "certificate": base64.b64encode(certificate).decode(),
                "signature": base64.b64encode(signature).decode(),
            },
        )
    except CardError as exc:
        out(exc.message_fr)
        return exc.exit_code
    except ServiceError as exc:
        out(exc.message_fr)
        return exc.exit_code
    except (KeyError, TypeError):
        out("Réponse inattendue du service Confrère ; réessayez plus tard.")
        return 5
    finally:
        if card is not None:
            card.close()
    out(answer.get("message_fr") or "Identité vérifiée.")
    return 0


def service_base(url: str) -> str:
    """The service address; plain http only on this computer (the code must not travel clear)."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServiceError(
            "Adresse du service invalide : recopiez la commande donnée par le robot.", 2
        )
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ServiceError(
            "Le service doit être joint en https (seul « localhost » est accepté en http).", 2
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


def _prompt_pin() -> str:
    return getpass.getpass(PIN_PROMPT)


def _holder(der: bytes) -> str:
    from cryptography import x509

    from bridge.cps.subject import holder_of

    try:
        holder = holder_of(x509.load_der_x509_certificate(der))
    except ValueError:
        return "certificat illisible"
    return holder.describe() if holder else "titulaire inconnu"
