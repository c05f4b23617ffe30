"""`confrere cps-verify`: the server package's alias of the light tool's `confrere-cps`.

Practitioners install only `confrere-cps` (cps-tool/); this verb stays for a server operator
who tries a card on the server machine, with exactly the same options and behaviour.
"""

from __future__ import annotations

from confrere_cps import cli


def register(verbs) -> None:
    verb = verbs.add_parser(
        "cps-verify",
        help="vérifier votre identité avec votre carte CPS (identique à confrere-cps)",
    )
    cli.add_arguments(verb)
    verb.set_defaults(func=cli.command, standalone=True)
