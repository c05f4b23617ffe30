"""`!aide` / `!help`: the list of commands, generated from their declarations."""

from __future__ import annotations

from html import escape

from bridge.commands import Command, CommandContext
from bridge.context import Feature

GREETING_FR = "Bonjour, je suis le robot Confrère."
ADMIN_SECTION = "Administration"  # shown to the administrators only


def shown_to(ctx: CommandContext, command: Command) -> bool:
    """The administrators' commands are listed to the administrators only."""
    if command.section != ADMIN_SECTION:
        return True
    return ctx.sender in ctx.services.settings.administrators


async def show_help(ctx: CommandContext) -> None:
    assert ctx.router is not None
    sections: dict[str, list[Command]] = {}
    for command in ctx.router.commands:
        if not shown_to(ctx, command):
            continue
        sections.setdefault(command.section, []).append(command)
    lines = [f"{GREETING_FR} Voici les commandes disponibles :"]
    html = [f"<p>{escape(GREETING_FR)} Voici les commandes disponibles :</p>"]
    for section, commands in sections.items():
        lines.append(f"\n{section}")
        html.append(f"<p><strong>{escape(section)}</strong></p><ul>")
        for command in commands:
            names = " / ".join(f"!{n}" for n in (command.name, *command.aliases))
            usage = f" {command.usage}" if command.usage else ""
            lines.append(f"• {names}{usage} — {command.help_fr} ({command.help_en})")
            html.append(
                f"<li><code>{escape(names + usage)}</code> — {escape(command.help_fr)} "
                f"<em>({escape(command.help_en)})</em></li>"
            )
        html.append("</ul>")
    lines.append("\n(English: every command also answers to its English name.)")
    await ctx.reply("\n".join(lines), "".join(html))


FEATURE = Feature(
    name="help",
    commands=(
        Command(
            name="aide", aliases=("help",), handler=show_help,
            help_fr="affiche cette aide", help_en="show this help",
        ),
    ),
)
