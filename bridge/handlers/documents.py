"""Identity documents in the bot's encrypted DM: asked for step by step, checked, kept encrypted.

`!verifier document` (or `passeport`, or after `!verifier manuel`) opens a collection, run as
a durable dialog (`bridge/dialogs/`): the bot asks the issuing country (passed to Onfido),
then the recto, the verso (or the passport page) and a selfie; `annuler` and `retour` work at
each step, and a restart of the service resumes where the practitioner was. Each attachment is
size-checked from its announced size and again while downloading, decrypted, typed from its
bytes, and stored encrypted; when the last one arrives the check goes to the provider.
Anything sent outside a collection is refused without being downloaded.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import aiohttp
from nio import MatrixRoom
from nio.crypto.attachments import decrypt_attachment
from nio.exceptions import EncryptionError

from bridge.commands import CommandContext
from bridge.context import Feature, HandlerContext
from bridge.dialogs import FINISH, Answer, Dialog, DialogContext, Invalid, Step
from bridge.identity.countries import country_name_fr, issuing_country
from bridge.identity.document_checks import DOCUMENT_FR
from bridge.identity.documents import DocumentRefused, Photo, check_image, too_big_message
from bridge.storage.values import ADMIN_ROOM_KEY

log = logging.getLogger(__name__)

ASK_FR = {
    ("national_identity_card", "front"): "Envoyez d'abord la photo du RECTO de votre carte "
                                         "d'identité (le côté avec votre photo).",
    ("national_identity_card", "back"): "Recto reçu. Envoyez maintenant la photo du VERSO de "
                                        "votre carte d'identité.",
    ("national_identity_card", "selfie"): "Verso reçu. Envoyez enfin un SELFIE : votre visage de "
                                          "face, bien éclairé, sans lunettes de soleil.",
    ("passport", "front"): "Envoyez d'abord la photo de la PAGE de votre passeport qui porte "
                           "votre photo, en entier et lisible.",
    ("passport", "selfie"): "Page du passeport reçue. Envoyez enfin un SELFIE : votre visage de "
                            "face, bien éclairé, sans lunettes de soleil.",
}
NOT_IN_FLOW_FR = (
    "Je n'attends aucun document de votre part, je ne l'ai donc pas conservé. Pour faire "
    "vérifier votre identité avec une pièce d'identité, écrivez d'abord !verifier document "
    "(ou !verifier passeport).\n(I was not expecting a document: type !verify document first.)"
)
UNENCRYPTED_MEDIA_FR = (
    "Cette pièce jointe n'est pas chiffrée : je ne l'utilise pas. Envoyez la photo depuis une "
    "conversation chiffrée (Element le fait par défaut)."
)
UNDECRYPTABLE_FR = "Je n'ai pas pu déchiffrer ce fichier. Pouvez-vous le renvoyer ?"
DOWNLOAD_FAILED_FR = ("Je n'ai pas pu récupérer ce fichier sur le serveur. Pouvez-vous le "
                      "renvoyer dans un instant ?")
SUBMITTED_FR = {
    "review": "Merci, j'ai toutes les photos. Elles sont transmises, chiffrées, aux "
              "administrateurs de Confrère qui vérifieront votre identité : cela peut prendre "
              "jusqu'à 24 heures. Je vous préviendrai ici du résultat.",
    "onfido": "Merci, j'ai toutes les photos. Elles sont transmises au service de vérification "
              "d'identité (Onfido) : le résultat arrive en général en quelques minutes, et au "
              "plus tard sous 24 heures. Je vous préviendrai ici.",
}


DIALOG = "identity-documents"
COUNTRY_FR = ("Quel pays a délivré votre {document} ? Écrivez son nom ou son code (par exemple "
              "Belgique, BE ou BEL), ou « ok » pour la France.\n(Which country issued it? Its "
              "name or code, or “ok” for France.)")
UNKNOWN_COUNTRY_FR = ("Je ne reconnais pas ce pays : écrivez son nom (par exemple Belgique) ou "
                      "son code à deux ou trois lettres (BE, BEL).\n(Unknown country: write its "
                      "name or its two- or three-letter code.)")


async def start(ctx: CommandContext, document_type: str, *, after_manual: bool = False) -> None:
    """Open a collection of photos in this conversation: a durable dialog (`DIALOG`) that
    asks the issuing country, then each photo; a restart of the service changes nothing."""
    services = ctx.services
    checks = services.documents
    if await checks.submitted(ctx.sender) is not None:
        await ctx.reply("Vos documents sont déjà en cours d'examen ; je vous préviendrai ici "
                        "dès que ce sera fait (jusqu'à 24 heures).")
        return
    if await services.dialogs.active(ctx.sender, ctx.room_id) == DIALOG:
        await services.dialogs.cancel(ctx.sender, ctx.room_id)  # e.g. a passport instead
    check = await checks.open(ctx.sender, ctx.room_id, document_type)
    cap = checks.image_cap // (1024 * 1024)
    pieces = ("le recto et le verso de votre carte d'identité, puis un selfie"
              if document_type == "national_identity_card"
              else "la page photo de votre passeport, puis un selfie")
    intro = ("Pour que l'administrateur puisse vérifier votre identité, envoyez-moi ici "
             if after_manual else "Vérification par pièce d'identité : envoyez-moi ici ")
    other = (" (Passeport plutôt ? Écrivez !verifier passeport.)"
             if document_type == "national_identity_card" else "")
    intro = (f"{intro}{pieces}, une photo à la fois, au format JPEG ou PNG ({cap} Mo au plus "
             f"chacune). Vos photos restent chiffrées et sont supprimées dès la décision prise ; "
             f"la vérification peut prendre jusqu'à 24 heures.{other}\n")

    async def first_question(text: str, html: str | None = None) -> None:
        await ctx.reply(intro + text)

    await services.dialogs.start(DIALOG, ctx.sender, ctx.room_id, first_question,
                                 {"check": check.id, "document_type": document_type})


def _ask_country(context: DialogContext) -> str:
    return COUNTRY_FR.format(document=DOCUMENT_FR[context.data["document_type"]])


def _country(answer: Answer, context: DialogContext) -> str:
    code = issuing_country(answer.text or "")
    if code is None:
        raise Invalid(UNKNOWN_COUNTRY_FR)
    return code


def _ask_photo(kind: str):
    def question(context: DialogContext) -> str:
        text = ASK_FR[(context.data["document_type"], kind)]
        if kind == "front":  # right after the country: say which one was understood
            text = f"Pays émetteur : {country_name_fr(context.data['country'])}. {text}"
        return text
    return question


def _photo(kind: str):
    async def parse(answer: Answer, context: DialogContext) -> str:
        """Size-checked, downloaded with a cap, decrypted, typed, stored encrypted."""
        services: HandlerContext = context.services
        checks, event = services.documents, answer.attachment
        check = await checks.waiting(context.user_id)
        if check is None or check.id != context.data["check"]:
            raise Invalid(NOT_IN_FLOW_FR)
        if not hasattr(event, "key"):
            raise Invalid(UNENCRYPTED_MEDIA_FR)
        again = ASK_FR[(context.data["document_type"], kind)]
        try:
            declared = (event.source.get("content", {}).get("info") or {}).get("size")
            if isinstance(declared, int) and (
                    message := too_big_message(declared, checks.image_cap)):
                raise DocumentRefused(message)
            bot = services.require_bot()
            ciphertext = await fetch_capped(services.http, bot, event.url, checks.image_cap)
            try:
                data = decrypt_attachment(ciphertext, event.key["k"], event.hashes["sha256"],
                                          event.iv)
            except (EncryptionError, KeyError, TypeError, ValueError):
                raise DocumentRefused(UNDECRYPTABLE_FR)
            mimetype = check_image(data, checks.image_cap)
        except DocumentRefused as refused:
            log.info("document refused for check %s (%s step)", check.id, kind)
            raise Invalid(refused.message_fr + "\n" + again) from None
        except aiohttp.ClientError as exc:
            log.warning("document download failed for check %s: %s", check.id,
                        type(exc).__name__)
            raise Invalid(DOWNLOAD_FAILED_FR) from None
        photo = Photo(kind, mimetype, data)
        await checks.accept(check, photo)
        return photo.digest
    return parse


def _after_front(context: DialogContext) -> str:
    return "back" if context.data["document_type"] == "national_identity_card" else "selfie"


async def _submit(context: DialogContext) -> str:
    provider = await context.services.documents.submit(context.data["check"],
                                                       context.data["country"])
    return SUBMITTED_FR[provider]


async def _release(context: DialogContext) -> None:
    await context.services.documents.cancel(context.data["check"])


IDENTITY_DOCUMENTS = Dialog(
    name=DIALOG, title="Vérification par pièce d'identité",
    steps=(
        Step("country", _ask_country, _country),
        Step("front", _ask_photo("front"), _photo("front"), next=_after_front,
             wants_attachment=True),
        Step("back", _ask_photo("back"), _photo("back"), wants_attachment=True),
        Step("selfie", _ask_photo("selfie"), _photo("selfie"), next=FINISH,
             wants_attachment=True),
    ),
    finish=_submit, on_cancel=_release, expires_after=timedelta(days=2),
)


async def on_attachment(services: HandlerContext, room: MatrixRoom, event: Any) -> None:
    """An image or file sent to the bot: an answer to the documents dialog, or refused."""
    if room.room_id == await services.verification.get_value(ADMIN_ROOM_KEY):
        return  # the administrators' room: photos there are the bot's own postings
    if room.member_count > 2:
        return  # not a direct conversation with the bot
    bot = services.require_bot()

    async def reply(text: str, html: str | None = None) -> None:
        await bot.send_text(room.room_id, text, html)

    if await services.dialogs.handle(event.sender, room.room_id, Answer(attachment=event),
                                     reply):
        return
    await reply(NOT_IN_FLOW_FR)


async def fetch_capped(http: aiohttp.ClientSession, bot: Any, mxc: str, cap: int) -> bytes:
    """Download media with the bot's token, giving up as soon as it exceeds `cap` bytes."""
    parsed = urlparse(mxc)
    if parsed.scheme != "mxc" or not parsed.netloc or not parsed.path.strip("/"):
        raise DocumentRefused(DOWNLOAD_FAILED_FR)
    url = (f"{bot.homeserver_url}/_matrix/client/v1/media/download/"
           f"{parsed.netloc}/{parsed.path.strip('/')}")
    headers = {"Authorization": f"Bearer {bot.client.access_token}"}
    async with http.get(url, headers=headers,
                        timeout=aiohttp.ClientTimeout(total=120)) as response:
        if response.status != 200:
            raise DocumentRefused(DOWNLOAD_FAILED_FR)
        if response.content_length is not None and response.content_length > cap:
            raise DocumentRefused(too_big_message(response.content_length, cap) or "")
        chunks, total = [], 0
        async for chunk in response.content.iter_chunked(256 * 1024):
            total += len(chunk)
            if total > cap:
                raise DocumentRefused(too_big_message(total, cap) or "")
            chunks.append(chunk)
    return b"".join(chunks)


FEATURE = Feature(
    name="documents",
    dialogs=(IDENTITY_DOCUMENTS,),
    # the photos are deleted once a decision is taken, whatever its method
    listeners=lambda context: {"identity.delete-documents": context.documents.on_decision},
)
