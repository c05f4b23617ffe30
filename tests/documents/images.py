"""Small real images (and impostors) for the document tests."""

from __future__ import annotations

import io

from PIL import Image


def jpeg(color: str = "red", size: tuple[int, int] = (64, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def png(color: str = "blue") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), color).save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
NOT_AN_IMAGE = b"MZ\x90\x00 this is a Windows executable, or anything but an image" * 10


def big_jpeg(megabytes: int) -> bytes:
    """A JPEG header followed by padding: sniffs as JPEG, weighs `megabytes` MB."""
    head = jpeg()
    return head + b"\0" * (megabytes * 1024 * 1024 - len(head))
