"""What the bot adds to directory answers so nobody mistakes the directory's state.

An empty directory is not a "no match", and the bundled sample is not the national directory:
`search_notice` returns the sentence to show (or None for the national extract).
"""

from __future__ import annotations

from dataclasses import dataclass

from .sample import is_sample

EMPTY_FR = ("L'annuaire n'est pas encore importé sur ce serveur : aucune recherche n'est "
            "possible pour l'instant. Prévenez l'administrateur de Confrère.\n"
            "(The directory has not been imported yet on this server.)")
SAMPLE_FR = ("Attention : cet annuaire est l'échantillon de démonstration livré avec "
             "Confrère (une centaine de praticiens), pas l'annuaire national. "
             "(Demo sample, not the national directory.)")


@dataclass(frozen=True)
class DirectoryNotice:
    empty: bool
    text: str


async def search_notice(directory) -> DirectoryNotice | None:
    """Empty directory, or the bundled sample: what to tell whoever searches it."""
    if await directory.count() == 0:
        return DirectoryNotice(empty=True, text=EMPTY_FR)
    last = await directory.store.last_import()
    if is_sample(last.source if last else None):
        return DirectoryNotice(empty=False, text=SAMPLE_FR)
    return None
