"""`confrere directory …`: import, import-cpts, search, generate.

`register(subparsers)` adds the command to the main parser; each verb's handler is called as
`handler(args, settings)` and returns the exit code: 0 done, 2 refused input, 3 busy.
Human output in French; `--json` for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bridge.config import Settings
from bridge.storage.database import Database

from .cpts import CptsFileError
from .extract import ExtractError
from .index import DirectoryBusy
from .practitioner import Practitioner, SearchPage
from .service import DirectoryService
from .synthetic import generate

EXIT_REFUSED = 2
EXIT_BUSY = 3
EXIT_EMPTY = 4


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "directory", help="annuaire national des professionnels de santé / national directory"
    )
    verbs = parser.add_subparsers(dest="directory_verb", required=True, metavar="VERBE")

    verb = verbs.add_parser("import", help="importer un extrait PS_LibreAcces (.txt ou .zip)")
    verb.add_argument("path", type=Path)
    verb.add_argument("--json", action="store_true", help="résumé en JSON")
    verb.add_argument("--no-progress", action="store_true", help="sans barre de progression")
    verb.set_defaults(func=cmd_import)

    verb = verbs.add_parser(
        "import-cpts", help="importer les membres de CPTS (CSV: CPTS, identifiant)"
    )
    verb.add_argument("file", type=Path)
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(func=cmd_import_cpts)

    verb = verbs.add_parser("search", help="rechercher un praticien")
    verb.add_argument("text", nargs="*", help="nom, prénom, profession, spécialité, ville…")
    verb.add_argument("--profession")
    verb.add_argument("--specialty", "--specialite", dest="specialty")
    verb.add_argument("--city", "--ville", dest="city", help="ville, code postal ou département")
    verb.add_argument("--page", type=int, default=1)
    verb.add_argument("--page-size", type=int, default=10)
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(func=cmd_search)

    verb = verbs.add_parser("generate", help="écrire un extrait synthétique (tests, mesures)")
    verb.add_argument("out", type=Path)
    verb.add_argument("--rows", type=int, required=True)
    verb.add_argument("--seed", type=int, default=1)
    verb.add_argument("--columns", type=int, choices=(52, 56), default=52)
    verb.set_defaults(func=cmd_generate, standalone=True)  # writes a file; no data directory
    return parser


async def _with_service(settings: Settings, work):
    database = Database(settings.database_url)
    try:
        await database.migrate()
        return await work(DirectoryService(settings, database))
    finally:
        await database.close()


def _refused(message: str, code: int = EXIT_REFUSED) -> int:
    print(message, file=sys.stderr)
    return code


def _print_report(report, as_json: bool) -> int:
    """An import report, readable (French) or as JSON for scripts."""
    print(json.dumps(report.to_json(), ensure_ascii=False, indent=2) if as_json
          else report.to_text())
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    progress = not args.no_progress and not args.json and sys.stderr.isatty()
    try:
        report = asyncio.run(
            _with_service(settings, lambda s: s.import_extract(args.path, progress=progress))
        )
    except ExtractError as exc:
        return _refused(str(exc))
    except DirectoryBusy as exc:
        return _refused(str(exc), EXIT_BUSY)
    return _print_report(report, args.json)


def cmd_import_cpts(args: argparse.Namespace, settings: Settings) -> int:
    try:
        report = asyncio.run(_with_service(settings, lambda s: s.import_cpts(args.file)))
    except CptsFileError as exc:
        return _refused(str(exc))
    except DirectoryBusy as exc:
        return _refused(str(exc), EXIT_BUSY)
    return _print_report(report, args.json)


EMPTY_DIRECTORY = (
    "L'annuaire n'est pas encore importé : confrere directory import FICHIER "
    "(extrait PS_LibreAcces de l'ANS). / The directory has not been imported yet."
)


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    text = " ".join(args.text)

    async def search(service: DirectoryService) -> SearchPage | None:
        if await service.count() == 0:
            return None
        return await service.search(text, profession=args.profession, specialty=args.specialty,
                                    city=args.city, page=args.page, page_size=args.page_size)

    page = asyncio.run(_with_service(settings, search))
    if page is None:
        return _refused(EMPTY_DIRECTORY, EXIT_EMPTY)
    print(
        json.dumps(page.to_json(), ensure_ascii=False, indent=2) if args.json else format_page(page)
    )
    return 0


def cmd_generate(args: argparse.Namespace, settings: Settings | None = None) -> int:
    if args.rows < 0:
        return _refused("--rows doit être positif / must be positive")
    persons = generate(args.out, args.rows, seed=args.seed, columns=args.columns)
    print(f"{args.out} : {args.rows} lignes, {persons} praticiens")
    return 0


def format_page(page: SearchPage) -> str:
    """The readable list printed by `search` (numbered across pages)."""
    if not page.total:
        return "Aucun praticien trouvé."
    shown = min(page.total, 100)
    lines = [
        f"{page.total} praticien(s) trouvé(s)"
        + (f", {shown} affichables" if page.capped else "")
        + f" — page {page.page}/{max(page.pages, 1)}"
        + (" (orthographe approchée)" if page.fuzzy else "")
    ]
    first = (page.page - 1) * page.page_size + 1
    for number, person in enumerate(page.results, first):
        lines.append(f"{number:>3}. {describe(person)}")
        for site in person.sites[:3]:
            where = " ".join(x for x in (site.postal_code, site.city) if x)
            parts = [x for x in (site.organisation, site.address, where, site.phone) if x]
            lines.append(f"       {' · '.join(parts)}")
        if len(person.sites) > 3:
            lines.append(f"       … et {len(person.sites) - 3} autre(s) lieu(x)")
    return "\n".join(lines)


def describe(person: Practitioner) -> str:
    what = ", ".join(x for x in (person.profession, person.specialty) if x)
    extra = f" [CPTS : {', '.join(person.cpts)}]" if person.cpts else ""
    return f"{person.display_name} — {what} ({person.national_id}){extra}"


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (`python -m bridge.directory.cli --data DIR directory …`)."""
    from bridge.config import load_settings

    parser = argparse.ArgumentParser(prog="confrere")
    parser.add_argument("--data", default="data")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args, load_settings(Path(args.data)))


if __name__ == "__main__":
    sys.exit(main())
