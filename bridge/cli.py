"""The `confrere` command line: `up`, `init`, `status`, `backup`, `account`, `directory …`.

Every verb takes `--data DIR` (default ./var, or $CONFRERE_DATA), before or after the verb: the
data directory that holds configuration, secrets, databases, the bot's keys and logs. Only the
verbs that start or set up the product (`up`, `serve`, `init`, `restore`) may create one; the
others refuse clearly when it is missing, so a command typed in the wrong folder never creates
a second, empty Confrère.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from pathlib import Path

from bridge.config import CONFIG_FILE, ConfigError, Settings, load_settings, write_default_config


#: Verbs that may create a data directory (everything else needs an existing one).
CREATING_VERBS = frozenset({"up", "serve", "init"})
EXIT_NO_DATA = 2


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data or os.environ.get("CONFRERE_DATA") or "var")


def _hoist_data_option(argv: list[str]) -> list[str]:
    """Accept `--data DIR` anywhere (`confrere up --data DIR` as well as before the verb)."""
    rest: list[str] = []
    data: list[str] = []
    items = iter(argv)
    for item in items:
        if item == "--":
            rest.append(item)
            rest.extend(items)
            break
        if item == "--data":
            data = ["--data", next(items, "")]
        elif item.startswith("--data="):
            data = ["--data", item.split("=", 1)[1]]
        else:
            rest.append(item)
    return data + rest


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    from bridge.homeserver import render_synapse_config

    path = render_synapse_config(settings)
    print(f"Configuration : {settings.data_dir / CONFIG_FILE}\nSynapse : {path}")
    return 0


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from bridge.logs import configure_logging
    from bridge.stack import run_stack

    configure_logging(settings.logs_dir, settings.logging.level)
    return asyncio.run(run_stack(settings, first_run=args.first_run))


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Production: the service and the bot only; Synapse runs elsewhere (docker-compose)."""
    from bridge.logs import configure_logging
    from bridge.stack import run_stack

    configure_logging(settings.logs_dir, settings.logging.level)
    return asyncio.run(run_stack(settings, first_run=args.first_run, with_synapse=False))


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from bridge.operations.status import run

    return run(settings)


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from bridge.operations.backup import BackupError, backup

    external = tuple(name for name, url in (("service", settings.database.url),
                                            ("Synapse", settings.synapse.database_url))
                     if url and not url.startswith("sqlite"))
    try:
        report = backup(settings.data_dir, args.destination, external)
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Sauvegarde écrite : {report.archive} ({report.files} fichiers, dont "
          f"{report.sqlite_databases} bases SQLite copiées à chaud). Elle contient les secrets : "
          "gardez-la en lieu sûr.")
    for name in report.external_databases:
        print(f"La base PostgreSQL de {name} n'est pas dans l'archive : sauvegardez-la avec "
              "pg_dump.")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from bridge.operations.backup import BackupError, restore

    data_dir = _data_dir(args)
    try:
        count = restore(args.archive, data_dir)
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{count} fichiers restaurés dans {data_dir}. Démarrez avec : "
          f"confrere --data {data_dir} up")
    return 0


def _strong_password() -> str:
    """A random password that meets the signup policy (mixed case and a digit)."""
    while True:
        password = secrets.token_urlsafe(15)
        if (any(c.isupper() for c in password) and any(c.islower() for c in password)
                and any(c.isdigit() for c in password)):
            return password


def cmd_account_create(args: argparse.Namespace, settings: Settings) -> int:
    """A practitioner account made by the operator (tests, demonstrations), exactly as the
    signup page makes one — profile, welcome conversation, verification paths — but without
    the e-mail code. Needs the running product (`confrere up`)."""
    from datetime import datetime, timezone
    from types import SimpleNamespace

    import aiohttp

    from bridge.accounts.signup import AccountCreationError, NewAccount, create_account
    from bridge.accounts.validation import password_problems
    from bridge.storage.database import Database

    password = args.password or _strong_password()
    problems = password_problems(password, first_name=args.first_name, last_name=args.last_name)
    if problems:
        print("Mot de passe refusé : " + " ; ".join(problems), file=sys.stderr)
        return 2
    now = datetime.now(timezone.utc)
    email = args.email or (f"{args.first_name}.{args.last_name}@exemple.invalid"
                           .lower().replace(" ", "-"))
    profile = NewAccount(
        first_name=args.first_name, last_name=args.last_name, email=email,
        exercise_mode=args.exercise_mode, terms_version=settings.signup.terms_version,
        terms_accepted_at=now, privacy_version=settings.signup.privacy_version,
        privacy_accepted_at=now, declared_identifier=args.rpps,
        declared_identifier_type="RPPS" if args.rpps else None)

    async def create():
        database = Database(settings.database_url)
        try:
            await database.migrate()
            async with aiohttp.ClientSession() as http:
                services = SimpleNamespace(settings=settings, database=database, http=http)
                return await create_account(services, profile, password)
        finally:
            await database.close()

    try:
        account = asyncio.run(create())
    except AccountCreationError as exc:
        print(f"Impossible de créer le compte : {exc.user_message}", file=sys.stderr)
        return 1
    print(f"Compte créé : {account.user_id}\nMot de passe : {password}\n"
          "Connectez-vous avec Element : le robot Confrère vous invite dans une conversation "
          "où il explique la vérification d'identité (!verifier).")
    return 0


def cmd_api_token(args: argparse.Namespace, settings: Settings) -> int:
    """Integrator tokens: printed once at creation, stored hashed."""
    from bridge.integrator_api.tokens import create_token, revoke_token
    from bridge.storage.database import Database

    async def run() -> int:
        database = Database(settings.database_url)
        try:
            await database.migrate()
            if args.token_verb == "create":
                scope = ("practitioner", args.practitioner) if args.practitioner else \
                    ("organisation", args.organisation) if args.organisation else ("all", None)
                token = await create_token(database, args.name, *scope)
                print(f"Jeton pour « {args.name} » (affiché une seule fois) :\n{token}")
                return 0
            count = await revoke_token(database, args.name)
            print(f"{count} jeton(s) révoqué(s) pour « {args.name} ».")
            return 0 if count else 1
        finally:
            await database.close()

    return asyncio.run(run())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="confrere", description="Confrère — messagerie sécurisée")
    parser.add_argument("--data", help="data directory (default ./var or $CONFRERE_DATA)")
    verbs = parser.add_subparsers(dest="verb", required=True)
    up = verbs.add_parser("up", help="start Synapse, the service and the bot (Ctrl-C stops)")
    up.set_defaults(func=cmd_up)
    serve = verbs.add_parser("serve", help="start the service and the bot only (Synapse elsewhere)")
    serve.set_defaults(func=cmd_serve)
    init = verbs.add_parser("init", help="write configuration, secrets and Synapse config")
    init.set_defaults(func=cmd_init)
    status = verbs.add_parser("status", help="health of Synapse, the service, the bot, the "
                              "outbox and the directory (exit 1 if something is wrong)")
    status.set_defaults(func=cmd_status)
    save = verbs.add_parser("backup", help="write a backup archive of the data directory "
                            "(SQLite copied safely while running)")
    save.add_argument("destination", nargs="?", type=Path,
                      help="archive path (default confrere-sauvegarde-<date>.tar.gz)")
    save.set_defaults(func=cmd_backup)
    load = verbs.add_parser("restore", help="unpack a backup into a new data directory")
    load.add_argument("archive", type=Path)
    load.set_defaults(func=cmd_restore, standalone=True)
    account = verbs.add_parser("account", help="practitioner accounts").add_subparsers(
        dest="account_verb", required=True)
    create = account.add_parser(
        "create", help="create a practitioner account as the signup page would (no e-mail code)")
    create.add_argument("first_name", metavar="PRENOM")
    create.add_argument("last_name", metavar="NOM")
    create.add_argument("--email", help="default: prenom.nom@exemple.invalid")
    create.add_argument("--password", help="default: a strong random one, printed once")
    create.add_argument("--rpps", help="declared RPPS number (checked at verification)")
    create.add_argument("--exercise-mode", choices=("liberal", "salarie"), default="liberal")
    create.set_defaults(func=cmd_account_create)
    tokens = verbs.add_parser("api-token", help="integrator API tokens").add_subparsers(
        dest="token_verb", required=True)
    for verb, text in (("create", "create a token (printed once)"),
                       ("revoke", "revoke every token of this integrator")):
        sub = tokens.add_parser(verb, help=text)
        sub.add_argument("name", help="integrator name, e.g. 'logiciel-cabinet-x'")
        if verb == "create":
            scope = sub.add_mutually_exclusive_group()
            scope.add_argument("--practitioner", metavar="ID",
                               help="agenda access for this national id only")
            scope.add_argument("--organisation", metavar="ORG",
                               help="agenda access for this organisation's practitioners")
        sub.set_defaults(func=cmd_api_token)
    try:
        from bridge.directory import cli as directory_cli
    except ImportError:
        directory_cli = None
    if directory_cli is not None and hasattr(directory_cli, "register"):
        directory_cli.register(verbs)
    from bridge.cps import cli as cps_cli

    cps_cli.register(verbs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(_hoist_data_option(
        list(sys.argv[1:] if argv is None else argv)))
    if getattr(args, "standalone", False):  # e.g. cps-verify: runs on a practitioner's computer
        return args.func(args)
    data_dir = _data_dir(args)
    args.first_run = not (data_dir / CONFIG_FILE).exists()
    if args.first_run and args.verb not in CREATING_VERBS:
        print(f"Aucune installation Confrère dans « {data_dir.resolve()} » (pas de "
              f"{CONFIG_FILE}). Lancez cette commande depuis le dossier où vous avez démarré "
              "Confrère, ou indiquez --data DOSSIER ; pour une nouvelle installation : "
              "confrere up.", file=sys.stderr)
        return EXIT_NO_DATA
    write_default_config(data_dir)
    try:
        settings = load_settings(data_dir)
    except ConfigError as exc:
        print(f"Configuration invalide : {exc}", file=sys.stderr)
        return 2
    return args.func(args, settings)


if __name__ == "__main__":
    sys.exit(main())
