"""The mails Confrère sends at signup, in French, plain text and HTML from templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)


@dataclass(frozen=True)
class Composed:
    kind: str
    subject: str
    text: str
    html: str


def _compose(kind: str, subject: str, **context) -> Composed:
    context["subject"] = subject
    return Composed(kind, subject, _ENV.get_template(f"{kind}.txt").render(**context),
                    _ENV.get_template(f"{kind}.html").render(**context))


def signup_code(*, first_name: str, code: str, minutes: int, signup_url: str) -> Composed:
    return _compose("signup_code", "Votre code pour créer votre compte Confrère",
                    first_name=first_name, code=code, minutes=minutes, signup_url=signup_url)


def signup_existing(*, first_name: str, user_id: str, homeserver_url: str,
                    element_url: str) -> Composed:
    """Sent instead of a code when the address already has an account (the page says nothing)."""
    return _compose("signup_existing", "Vous avez déjà un compte Confrère",
                    first_name=first_name, user_id=user_id, homeserver_url=homeserver_url,
                    element_url=element_url)
