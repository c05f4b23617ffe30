"""`!annuaire` / `!search`, `!suite` / `!next`, `!favori N` / `!favorite N`, `!favoris`.

Results are numbered so that follow-up commands can name a person by number; the last page
each practitioner saw in each conversation is kept durably (`HandlerContext.last_results`).
"""

from __future__ import annotations

from html import escape

from bridge.accounts.states import State
from bridge.commands import Command, CommandContext
from bridge.context import Feature
from bridge.directory.last_results import LastResults
from bridge.directory.membership import verified_members
from bridge.directory.notice import search_notice
from bridge.directory.service import UnknownPractitioner

PAGE_SIZE = 10
MAX_QUERY = 500


UNVERIFIED_NOTE = ("Qui est sur Confrère s'affiche une fois votre identité vérifiée (!verifier). "
                   "(Who is on Confrère shows once your identity is verified.)")


async def members_for(ctx: CommandContext, national_ids: list[str]) -> dict[str, str] | None:
    """Who among these is on Confrère — told only to verified practitioners (None otherwise):
    the directory is open data, membership and Matrix ids are not."""
    state = await ctx.services.verification.state_for_rules(ctx.sender)
    if state["verification"] != State.VERIFIED and not state["administrator"]:
        return None
    return await verified_members(ctx.services.database, national_ids)


def _on(members: dict[str, str] | None, national_id: str) -> bool | str | None:
    """None: not told; False: not on Confrère; else the Matrix id to write to."""
    return None if members is None else members.get(national_id, False)


def describe(person, on_confrere: bool | str | None) -> str:
    """One result; `on_confrere` None: not said (the asker is not verified); a Matrix id:
    on Confrère, and where to write to them."""
    field_ = person.specialty or person.profession
    site = next((s for s in person.sites if s.city or s.raison_sociale or s.enseigne), None)
    where = ""
    if site is not None:
        organisation = site.enseigne or site.raison_sociale
        city = f"{site.city} ({site.postal_code})" if site.postal_code else site.city
        where = " — ".join(part for part in (organisation, city) if part)
    more = f" (+{len(person.sites) - 1} autre(s) lieu(x))" if len(person.sites) > 1 else ""
    badge = "" if on_confrere is None else (
        f"✓ sur Confrère : {on_confrere}" if isinstance(on_confrere, str) else
        "✓ sur Confrère" if on_confrere else "pas encore sur Confrère")
    parts = [person.display_name, field_, where + more, badge]
    return " — ".join(part for part in parts if part)


async def _show(ctx: CommandContext, last: LastResults) -> None:
    directory = ctx.services.directory
    result = await directory.search(last.text, page=last.page, page_size=PAGE_SIZE)
    last.pages = result.pages
    last.national_ids = [p.national_id for p in result.results]
    await ctx.services.results.put(ctx.sender, ctx.room_id, last)
    notice = await search_notice(directory)
    if notice is not None and notice.empty:
        await ctx.reply(notice.text)
        return
    if not result.results:
        await ctx.reply(f"Aucun praticien trouvé pour « {last.text} ». Essayez un nom, une "
                        "spécialité, une ville ou un code postal.\n(No practitioner found.)"
                        + (f"\n{notice.text}" if notice else ""))
        return
    members = await members_for(ctx, last.national_ids)
    first = (last.page - 1) * PAGE_SIZE
    total = f"{result.total} résultat(s)" + (" (100 premiers affichables)" if result.capped else "")
    fuzzy = " — orthographe approchée" if result.fuzzy else ""
    lines = [f"Annuaire : {total}{fuzzy}, page {last.page}/{max(result.pages, 1)}"]
    html = [f"<p>Annuaire : {escape(total + fuzzy)}, page {last.page}/{max(result.pages, 1)}</p><ol "
            f'start="{first + 1}">']
    for offset, person in enumerate(result.results):
        line = describe(person, _on(members, person.national_id))
        lines.append(f"{first + offset + 1}. {line}")
        html.append(f"<li>{escape(line)}</li>")
    html.append("</ol>")
    hint = "!favori N pour ajouter aux favoris"
    if members:
        hint += " · pour écrire à un confrère sur Confrère, ouvrez une conversation avec son " \
                "identifiant (@…)"
    if last.page < result.pages:
        hint = "!suite pour la page suivante · " + hint
    if members is None:
        hint += "\n" + UNVERIFIED_NOTE
    if notice is not None:
        hint += "\n" + notice.text
    lines.append(hint)
    html.append(f"<p><em>{escape(hint)}</em></p>")
    await ctx.reply("\n".join(lines), "".join(html))


async def search(ctx: CommandContext) -> None:
    text = ctx.args.strip()[:MAX_QUERY]
    if not text:
        await ctx.reply("Précisez ce que vous cherchez, par exemple : !annuaire cardiologue douai"
                        "\n(Say what you are looking for, e.g. !search cardiologist douai.)")
        return
    await _show(ctx, LastResults(text=text, page=1, pages=1, page_size=PAGE_SIZE))


async def next_page(ctx: CommandContext) -> None:
    last = await ctx.services.last_results(ctx.sender, ctx.room_id)
    if last is None:
        await ctx.reply("Aucune recherche en cours : commencez par !annuaire <texte>.\n"
                        "(No search yet: start with !search <text>.)")
        return
    if last.page >= last.pages:
        await ctx.reply("C'était la dernière page de résultats.\n(That was the last page.)")
        return
    last.page += 1
    await _show(ctx, last)


async def favourite(ctx: CommandContext) -> None:
    argument = ctx.args.strip()
    directory = ctx.services.directory
    try:
        number = int(argument)
    except ValueError:
        await ctx.reply("Usage : !favori N (numéro d'un résultat) ou !favori -N (retirer le "
                        "N-ième de vos favoris).")
        return
    if number < 0:
        ids = await directory.favourite_ids(ctx.sender)
        if not 1 <= -number <= len(ids):
            await ctx.reply(f"Vous avez {len(ids)} favori(s) : numéro {-number} inconnu.")
            return
        await directory.remove_favourite(ctx.sender, ids[-number - 1])
        await ctx.reply("Retiré de vos favoris.")
        return
    last = await ctx.services.last_results(ctx.sender, ctx.room_id)
    national_id = last.numbered(number) if last is not None else None
    if national_id is None:
        await ctx.reply("Numéro inconnu : utilisez un numéro de la dernière page de résultats "
                        "(!annuaire <texte>).")
        return
    try:
        added = await directory.add_favourite(ctx.sender, national_id)
    except UnknownPractitioner:
        await ctx.reply("Ce praticien n'est plus dans l'annuaire.")
        return
    await ctx.reply("Ajouté à vos favoris (!favoris pour la liste)." if added
                    else "Déjà dans vos favoris.")


async def favourites(ctx: CommandContext) -> None:
    people = await ctx.services.directory.favourites(ctx.sender)
    if not people:
        await ctx.reply("Vous n'avez pas encore de favoris : !annuaire <texte> puis !favori N.\n"
                        "(No favourites yet: !search <text>, then !favorite N.)")
        return
    # numbered like a search page: "!adresser N" (any "choose N") names a favourite too
    await ctx.services.results.put(ctx.sender, ctx.room_id, LastResults(
        text="", page=1, pages=1, page_size=len(people),
        national_ids=[p.national_id for p in people]))
    members = await members_for(ctx, [p.national_id for p in people])
    lines = ["Vos correspondants favoris :"]
    lines += [f"{i}. {describe(p, _on(members, p.national_id))}" for i, p in enumerate(people, 1)]
    lines.append("!favori -N pour retirer le N-ième.")
    await ctx.reply("\n".join(lines))


SECTION = "Annuaire"

FEATURE = Feature(
    name="directory",
    commands=(
        Command(
            name="annuaire", aliases=("search", "recherche"), handler=search, usage="<texte>",
            section=SECTION, help_fr="chercher un praticien (nom, spécialité, ville, CPTS…)",
            help_en="search the national directory"),
        Command(
            name="suite", aliases=("next",), handler=next_page, section=SECTION,
            help_fr="page suivante des résultats", help_en="next page of results"),
        Command(
            name="favori", aliases=("favorite", "fav"), handler=favourite, usage="N | -N",
            section=SECTION, help_fr="ajouter le résultat N aux favoris (ou -N : retirer)",
            help_en="add result N to favourites (-N removes)"),
        Command(
            name="favoris", aliases=("favorites",), handler=favourites, section=SECTION,
            help_fr="vos correspondants favoris", help_en="your favourite correspondents"),
    ),
)
