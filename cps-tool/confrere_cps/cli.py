"""`confrere-cps --service URL --code CODE`: prove one's identity with a CPS card.

Runs on the practitioner's computer, so it needs no data directory or configuration: the bot's
message gives the service address and the one-time code. Order matters for the practitioner:
everything that can fail at the card (no reader, no card, wrong PIN, blocked card) happens
before the code is spent, so a retry needs no new code.

The card is reached through the CPS middleware's PKCS#11 module when one is found (the usual
install places of Cryptolib CPS, $CONFRERE_CPS_PKCS11 or --pkcs11-module), else with APDUs over
PC/SC; --via forces one.

Exit codes: 0 verified; 1 refused by the service; 2 bad arguments or service address;
3 reader or card problem; 4 PIN problem; 5 service unreachable or challenge refused.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import sys
from collections.abc import Callable

from confrere_cps import __version__, middleware, protocol
from confrere_cps.errors import CardError, NoModule, SeveralCards, tries_warning
from confrere_cps.service import ServiceError, post_json, service_base

DEFAULT_TIMEOUT = 60.0
PIN_PROMPT = "Code PIN de votre carte CPS (il ne s'affiche pas) : "


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service", required=True, help="adresse du service (donnée par le robot)")
    parser.add_argument("--code", required=True, help="code à usage unique (donné par le robot)")
    parser.add_argument("--reader", help="nom (ou début du nom) du lecteur ou de la carte")
    parser.add_argument(
        "--via",
        choices=("auto", "pkcs11", "pcsc"),
        default="auto",
        help="pkcs11 : par le logiciel Cryptolib CPS ; pcsc : lecture directe de la carte ; "
        "auto (défaut) : pkcs11 s'il est installé",
    )
    parser.add_argument(
        "--pkcs11-module", help="chemin du module PKCS#11 de Cryptolib CPS (sinon cherché)"
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT,
        help="secondes d'attente de la carte (défaut 60)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="confrere-cps",
        description="Vérifier votre identité Confrère avec votre carte CPS et un lecteur. "
        "Copiez la commande donnée par le robot Confrère (!verifier cps).",
    )
    parser.add_argument("--version", action="version", version=f"confrere-cps {__version__}")
    add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    return command(build_parser().parse_args(argv))


def command(args: argparse.Namespace) -> int:
    return run(
        args.service, args.code, reader_name=args.reader, timeout=args.timeout, via=args.via,
        pkcs11_module=args.pkcs11_module,
    )


def run(
    service: str,
    code: str,
    *,
    reader_name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    via: str = "auto",
    pkcs11_module: str | None = None,
    ask_pin: Callable[[], str] | None = None,
    choose: Callable[[list[str]], int] | None = None,
    out: Callable[[str], None] = print,
) -> int:
    """The whole check; `ask_pin` and `choose` replace the terminal in tests (never a real PIN)."""
    try:
        base = service_base(service)
    except ServiceError as exc:
        out(exc.message_fr)
        return exc.exit_code
    normalised = protocol.normalise_code(code)
    if len(normalised) != protocol.CODE_LENGTH:
        out(
            "Ce code ne ressemble pas à celui donné par le robot (10 caractères, par exemple "
            "ABCDE-12345). Demandez-en un avec !verifier cps. (This is not a Confrère code.)"
        )
        return 2
    card = None
    try:
        card = _find_card(via, pkcs11_module, reader_name, timeout, choose or _choose, out)
        certificate = card.read_certificate()
        out(f"Carte CPS trouvée dans « {card.reader_name} » : {_holder(certificate)}")
        warning = tries_warning(card.pin_tries_left())
        if warning:
            out(warning)
        if card.protected_pin_path and ask_pin is None:
            out("Tapez votre code PIN sur le clavier du lecteur. (Type your PIN on the reader.)")
            card.verify_pin(None)
        else:
            card.verify_pin((ask_pin or _prompt_pin)())
        out("Code PIN accepté ; envoi de la preuve au service Confrère…")
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
    except (CardError, ServiceError) as exc:
        out(exc.message_fr)
        return exc.exit_code
    except (KeyError, TypeError):
        out("Réponse inattendue du service Confrère ; réessayez plus tard. (Unexpected answer.)")
        return 5
    finally:
        if card is not None:
            card.close()
    out(answer.get("message_fr") or "Identité vérifiée.")
    return 0


def _find_card(via, module_path, reader_name, timeout, choose, out):
    """The card through PKCS#11 (middleware found or forced) or PC/SC."""
    module = middleware.find_module(module_path) if via != "pcsc" else None
    if via == "pkcs11" and module is None:
        raise NoModule(
            "(aucun)", "Cryptolib CPS introuvable ; indiquez son chemin avec --pkcs11-module"
        )
    if module is not None:
        out(f"Accès à la carte par le module PKCS#11 « {module} ».")
        out("En attente de votre carte CPS…")
        try:
            return middleware.Pkcs11Card.find(module, reader_name, timeout, choose)
        except NoModule as exc:
            if via == "pkcs11":
                raise
            out(exc.message_fr)
            out("Lecture directe de la carte à la place (PC/SC).")
    from confrere_cps.pcsc import PcscCard, list_readers

    readers = list_readers()
    if reader_name:
        readers = [r for r in readers if str(r).startswith(reader_name)]
        if not readers:
            raise CardError(f"Aucun lecteur nommé « {reader_name} ». (No such reader.)")
    out("Lecteurs : " + ", ".join(str(r) for r in readers))
    out("En attente de votre carte CPS…")
    return PcscCard.find(readers, timeout, choose)


def _choose(names: list[str]) -> int:
    """Ask which card to use; without a terminal to ask on, say how to choose instead."""
    if not sys.stdin or not sys.stdin.isatty():
        raise SeveralCards(names)
    print("Plusieurs cartes sont présentes :")
    for number, name in enumerate(names, 1):
        print(f"  {number}. {name}")
    for _attempt in range(3):
        answer = input(f"Numéro de la carte à utiliser (1 à {len(names)}) : ").strip()
        if answer.isdigit() and 1 <= int(answer) <= len(names):
            return int(answer) - 1
    raise SeveralCards(names)


def _prompt_pin() -> str:
    return getpass.getpass(PIN_PROMPT)


def _holder(der: bytes) -> str:
    from cryptography import x509

    from confrere_cps.subject import holder_of

    try:
        holder = holder_of(x509.load_der_x509_certificate(der))
    except ValueError:
        return "certificat illisible"
    return holder.describe() if holder else "titulaire inconnu"

