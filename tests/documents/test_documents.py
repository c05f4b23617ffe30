"""Type sniffing, size limits and encrypted storage of identity photos."""

from __future__ import annotations

import pytest
from cryptography.fernet import InvalidToken

from bridge.identity.documents import (
    MB,
    DocumentCheck,
    DocumentRefused,
    DocumentStore,
    Photo,
    StoredDocument,
    check_image,
    sniff,
)
from tests.documents.images import NOT_AN_IMAGE, PDF, big_jpeg, jpeg, png

CAP = 10 * MB


def test_the_type_comes_from_the_bytes():
    assert sniff(jpeg()) == "image/jpeg"
    assert sniff(png()) == "image/png"
    assert sniff(PDF) == "application/pdf"
    assert sniff(NOT_AN_IMAGE) is None
    assert sniff(b"") is None


def test_a_pdf_renamed_jpg_is_refused_as_a_pdf():
    with pytest.raises(DocumentRefused) as refused:
        check_image(PDF, CAP)
    assert "PDF" in refused.value.message_fr and "JPEG ou PNG" in refused.value.message_fr


def test_a_file_that_is_not_an_image_is_refused():
    with pytest.raises(DocumentRefused) as refused:
        check_image(NOT_AN_IMAGE, CAP)
    assert "n'est pas une image" in refused.value.message_fr


def test_a_60_mb_image_is_refused_naming_the_attachment_cap():
    with pytest.raises(DocumentRefused) as refused:
        check_image(big_jpeg(60), CAP)
    assert "50 Mo" in refused.value.message_fr and "60 Mo" in refused.value.message_fr


def test_an_image_over_the_photo_cap_is_refused():
    with pytest.raises(DocumentRefused) as refused:
        check_image(big_jpeg(12), CAP)
    assert "10 Mo" in refused.value.message_fr
    assert check_image(jpeg(), CAP) == "image/jpeg"


async def test_photos_are_encrypted_at_rest_and_deleted(database):
    store = DocumentStore(database, "a-generated-secret")
    async with database.session() as session, session.begin():
        check = DocumentCheck(user_id="@a:localhost", room_id="!r:localhost",
                              document_type="passport", step="front")
        session.add(check)
    photo = Photo("front", "image/jpeg", jpeg())
    digest = await store.put(check.id, photo)
    async with database.session() as session:
        row = (await session.get(StoredDocument, 1)) or None
        rows = (await session.execute(
            StoredDocument.__table__.select())).all()
    assert len(rows) == 1 and row is not None
    assert photo.data not in row.ciphertext and photo.data[:64] not in row.ciphertext
    assert row.sha256 == digest
    assert (await store.photos(check.id)) == [photo]
    with pytest.raises(InvalidToken):
        await DocumentStore(database, "another-secret").photos(check.id)
    assert (await store.summary(check.id))[0]["sha256"] == digest
    assert await store.delete(check.id) == 1
    assert await store.photos(check.id) == []
