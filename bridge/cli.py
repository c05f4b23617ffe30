"""The `confrere` command line: `up`, `init`, `account`, `directory …`.

Every verb takes `--data DIR` (default ./var, or $CONFRERE_DATA): the data directory that
holds configuration, secrets, databases, the bot's keys and logs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from pathlib import Path

from bridge.config import CONFIG_FILE, ConfigError, Settings, load_settings, write_default_config


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data or os.environ.get("CONFRERE_DATA") or "var")


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


def cmd_account_create(args: argparse.Namespace, settings: Settings) -> int:
    """Development helper: a Matrix account without going through the signup page."""
    import aiohttp

    from bridge.matrix.synapse_admin import SynapseAdminError, register_with_shared_secret

    password = args.password or secrets.token_urlsafe(12)

    async def create() -> dict:
        async with aiohttp.ClientSession() as http:
            return await register_with_shared_secret(
                http, settings.synapse.url, settings.secrets.registration_shared_secret,
                args.username, password,
            )

    try:
        answer = asyncio.run(create())
    except (SynapseAdminError, OSError) as exc:
        print(f"Impossible de créer le compte : {exc}", file=sys.stderr)
        return 1
    print(f"Compte créé : {answer['user_id']}\nMot de passe : {password}")
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
                token = await create_token(database, args.name)
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
    account = verbs.add_parser("account", help="development accounts").add_subparsers(
        dest="account_verb", required=True)
    create = account.add_parser("create", help="create a Matrix account (development)")
    create.add_argument("username")
    create.add_argument("--password")
    create.set_defaults(func=cmd_account_create)
    tokens = verbs.add_parser("api-token", help="integrator API tokens").add_subparsers(
        dest="token_verb", required=True)
    for verb, text in (("create", "create a token (printed once)"),
                       ("revoke", "revoke every token of this integrator")):
        sub = tokens.add_parser(verb, help=text)
        sub.add_argument("name", help="integrator name, e.g. 'logiciel-cabinet-x'")
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
    args = build_parser().parse_args(argv)
    if getattr(args, "standalone", False):  # e.g. cps-verify: runs on a practitioner's computer
        return args.func(args)
    data_dir = _data_dir(args)
    args.first_run = not (data_dir / CONFIG_FILE).exists()
    write_default_config(data_dir)
    try:
        settings = load_settings(data_dir)
    except ConfigError as exc:
        print(f"Configuration invalide : {exc}", file=sys.stderr)
        return 2
    return args.func(args, settings)


if __name__ == "__main__":
    sys.exit(main())
