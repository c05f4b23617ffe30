"""Reading a card's PKCS#15 directory (ISO 7816-15): which file holds the authentication
certificate, which key reference signs with it, which PIN protects that key.

A real CPS3 card lists its objects there rather than at fixed places: EF.DIR (3F00/2F00) names
the application, its ODF (5031) points to the directories of private keys (PrKDF), certificates
(CDF) and PINs (AODF). This module only parses bytes (BER-TLV); `pcsc` fetches them.
The authentication key is the one whose usage allows signing but not non-repudiation (that is
the qualified signature key, which we never touch); its certificate shares its identifier.
"""

from __future__ import annotations

from dataclasses import dataclass

ODF_FID = bytes.fromhex("5031")
EF_DIR_PATH = bytes.fromhex("3F002F00")

# ODF entries: context tags [0] private keys, [4] certificates, [8] authentication objects
ODF_PRKDF, ODF_CDF, ODF_AODF = 0xA0, 0xA4, 0xA8
USAGE_SIGN, USAGE_SIGN_RECOVER, USAGE_NON_REPUDIATION = 2, 3, 9


class Pkcs15Error(ValueError):
    """The directory cannot be read as PKCS#15."""


def parse(data: bytes) -> list[tuple[int, bytes]]:
    """Top-level BER-TLV objects of `data` as (tag, value); 00/FF padding ends the list."""
    items: list[tuple[int, bytes]] = []
    i = 0
    while i < len(data) and data[i] not in (0x00, 0xFF):
        tag = data[i]
        i += 1
        if tag & 0x1F == 0x1F:  # multi-byte tag
            while i < len(data) and data[i] & 0x80:
                tag = (tag << 8) | data[i]
                i += 1
            if i >= len(data):
                raise Pkcs15Error("truncated tag")
            tag = (tag << 8) | data[i]
            i += 1
        if i >= len(data):
            raise Pkcs15Error("truncated length")
        length = data[i]
        i += 1
        if length & 0x80:
            count = length & 0x7F
            if count == 0 or count > 3 or i + count > len(data):
                raise Pkcs15Error("bad length")
            length = int.from_bytes(data[i : i + count], "big")
            i += count
        if i + length > len(data):
            raise Pkcs15Error("truncated value")
        items.append((tag, data[i : i + length]))
        i += length
    return items


def _first(items: list[tuple[int, bytes]], tag: int) -> bytes | None:
    return next((value for t, value in items if t == tag), None)


@dataclass(frozen=True)
class Application:
    aid: bytes
    label: str
    path: bytes | None


def applications(ef_dir: bytes) -> list[Application]:
    """Application templates (tag 61) of EF.DIR: AID (4F), label (50), path (51)."""
    found = []
    for tag, value in parse(ef_dir):
        if tag != 0x61:
            continue
        inner = parse(value)
        aid = _first(inner, 0x4F)
        if aid:
            label = (_first(inner, 0x50) or b"").decode("utf-8", "replace")
            found.append(Application(aid, label, _first(inner, 0x51)))
    return found


def odf(data: bytes) -> dict[int, list[bytes]]:
    """ODF entry tag -> the paths it lists (each entry wraps a Path: SEQUENCE { OCTET STRING })."""
    paths: dict[int, list[bytes]] = {}
    for tag, value in parse(data):
        path = _path(value)
        if path:
            paths.setdefault(tag, []).append(path)
    return paths


def _path(value: bytes) -> bytes | None:
    """The efidOrPath of a Path (SEQUENCE { OCTET STRING, ... }) or a bare OCTET STRING."""
    inner = parse(value)
    sequence = _first(inner, 0x30)
    if sequence is not None:
        inner = parse(sequence)
    return _first(inner, 0x04)


@dataclass(frozen=True)
class PrivateKey:
    label: str
    id: bytes
    usage: frozenset[int]
    reference: int | None
    auth_id: bytes | None

    @property
    def authenticates(self) -> bool:
        signs = bool({USAGE_SIGN, USAGE_SIGN_RECOVER} & self.usage)
        return signs and USAGE_NON_REPUDIATION not in self.usage


@dataclass(frozen=True)
class Certificate:
    label: str
    id: bytes
    path: bytes


@dataclass(frozen=True)
class Pin:
    label: str
    auth_id: bytes
    reference: int
    min_length: int
    stored_length: int
    max_length: int | None
    pad: int


def _bits(bit_string: bytes | None) -> frozenset[int]:
    """Named bits of a BER BIT STRING (first octet = unused bits), numbered from the left."""
    if not bit_string:
        return frozenset()
    bits = set()
    for index, octet in enumerate(bit_string[1:]):
        for bit in range(8):
            if octet & (0x80 >> bit):
                bits.add(index * 8 + bit)
    return frozenset(bits)


def _int(value: bytes | None) -> int | None:
    return int.from_bytes(value, "big") if value else None


def _common(entry: bytes) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]], bytes | None]:
    """(common object attributes, class attributes, type attributes [1]) of one object."""
    parts = parse(entry)
    sequences = [value for tag, value in parts if tag == 0x30]
    if len(sequences) < 2:
        raise Pkcs15Error("object without its common attributes")
    return parse(sequences[0]), parse(sequences[1]), _first(parts, 0xA1)


def private_keys(prkdf: bytes) -> list[PrivateKey]:
    keys = []
    for tag, entry in parse(prkdf):
        if tag not in (0x30, 0xA0):  # privateRSAKey (SEQUENCE) or privateECKey [0]
            continue
        common, key_attributes, _ = _common(entry)
        keys.append(
            PrivateKey(
                label=(_first(common, 0x0C) or b"").decode("utf-8", "replace"),
                id=_first(key_attributes, 0x04) or b"",
                usage=_bits(_first(key_attributes, 0x03)),
                reference=_int(_first(key_attributes, 0x02)),
                auth_id=_first(common, 0x04),
            )
        )
    return keys


def certificates(cdf: bytes) -> list[Certificate]:
    found = []
    for tag, entry in parse(cdf):
        if tag != 0x30:  # x509Certificate
            continue
        common, certificate_attributes, typed = _common(entry)
        attributes = parse(typed or b"")
        value = _first(attributes, 0x30)
        path = _path(value) if value is not None else None
        if path:
            found.append(
                Certificate(
                    label=(_first(common, 0x0C) or b"").decode("utf-8", "replace"),
                    id=_first(certificate_attributes, 0x04) or b"",
                    path=path,
                )
            )
    return found


def pins(aodf: bytes) -> list[Pin]:
    found = []
    for tag, entry in parse(aodf):
        if tag != 0x30:  # pinAuthObj
            continue
        common, auth_attributes, typed = _common(entry)
        attributes = parse(_first(parse(typed or b""), 0x30) or b"")
        reference = _int(_first(attributes, 0x80))
        if reference is None:
            continue
        integers = [_int(value) or 0 for t, value in attributes if t == 0x02]
        min_length, stored = (integers + [4, 8])[:2]
        found.append(
            Pin(
                label=(_first(common, 0x0C) or b"").decode("utf-8", "replace"),
                auth_id=_first(auth_attributes, 0x04) or b"",
                reference=reference,
                min_length=min_length,
                stored_length=stored,
                max_length=integers[2] if len(integers) > 2 else None,
                pad=(_first(attributes, 0x04) or b"\xff")[0],
            )
        )
    return found


@dataclass(frozen=True)
class AuthenticationObjects:
    """What the PC/SC path needs: where the certificate is, which key and PIN to use."""

    certificate_path: bytes
    key_reference: int
    pin: Pin | None


def authentication_objects(
    prkdf: bytes, cdf: bytes, aodf: bytes | None
) -> AuthenticationObjects:
    """The authentication key, its certificate (same iD) and its PIN (same authId)."""
    keys = [k for k in private_keys(prkdf) if k.authenticates and k.reference is not None]
    if not keys:
        raise Pkcs15Error("no authentication key in the PrKDF")
    keys.sort(key=lambda k: "auth" not in k.label.lower())  # a labelled one first, if several
    by_id = {c.id: c for c in certificates(cdf)}
    for key in keys:
        certificate = by_id.get(key.id)
        if certificate is None:
            continue
        pin = None
        if aodf is not None:
            candidates = pins(aodf)
            pin = next((p for p in candidates if p.auth_id == key.auth_id), None)
            pin = pin or (candidates[0] if candidates else None)
        return AuthenticationObjects(certificate.path, key.reference, pin)
    raise Pkcs15Error("no certificate for the authentication key in the CDF")
