"""The PKCS#15 file layout of the virtual CPS card, in the shape of an IAS-ECC CPS3.

MF 3F00 holds EF.DIR (2F00) naming the application; the application DF (3F00/5000, selected by
its AID) holds the ODF (5031), which points to the PrKDF, CDF and AODF. Two keys as on a real
card: the qualified signature one (non-repudiation, reference 0x82, certificate D002) listed
first, then the authentication one (reference 0x81, certificate D001) the tool must pick.
Paths are written both ways real cards use: full (3F00…) in the ODF, a bare file id in the CDF.
"""

from __future__ import annotations

MF = bytes.fromhex("3F00")
APP_DF = MF + bytes.fromhex("5000")
EF_DIR = MF + bytes.fromhex("2F00")
ODF = APP_DF + bytes.fromhex("5031")
PRKDF = APP_DF + bytes.fromhex("5001")
CDF = APP_DF + bytes.fromhex("5002")
AODF = APP_DF + bytes.fromhex("5003")
AUTH_CERT = APP_DF + bytes.fromhex("D001")
SIGN_CERT = APP_DF + bytes.fromhex("D002")
AUTH_KEY_REFERENCE, SIGN_KEY_REFERENCE = 0x81, 0x82
PIN_REFERENCE, PIN_STORED_LENGTH = 0x81, 8


def tlv(tag: int, *values: bytes) -> bytes:
    value = b"".join(values)
    if len(value) < 0x80:
        length = bytes([len(value)])
    else:
        size = (len(value).bit_length() + 7) // 8
        length = bytes([0x80 | size]) + len(value).to_bytes(size, "big")
    return bytes([tag]) + length + value


def integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes((value.bit_length() + 8) // 8, "big"))


def bits(*numbers: int) -> bytes:
    octets = bytearray(2)
    for n in numbers:
        octets[n // 8] |= 0x80 >> (n % 8)
    return tlv(0x03, b"\x00" + bytes(octets))


def path(value: bytes) -> bytes:
    return tlv(0x30, tlv(0x04, value))


def label(text: str) -> bytes:
    return tlv(0x0C, text.encode())


def private_key(name: str, key_id: bytes, usage: bytes, reference: int) -> bytes:
    return tlv(
        0x30,
        tlv(0x30, label(name), bits(0), tlv(0x04, b"\x01")),  # private, authId 01
        tlv(0x30, tlv(0x04, key_id), usage, integer(reference)),
        tlv(0xA1, tlv(0x30, path(APP_DF), integer(2048))),
    )


def certificate(name: str, key_id: bytes, file_id: bytes) -> bytes:
    return tlv(
        0x30,
        tlv(0x30, label(name)),
        tlv(0x30, tlv(0x04, key_id)),
        tlv(0xA1, tlv(0x30, path(file_id))),
    )


def files(aid: bytes, auth_der: bytes, sign_der: bytes) -> dict[bytes, bytes]:
    """Every EF of the card by its full path (padded with FF as card files are)."""
    sign_usage, auth_usage = bits(9), bits(2)  # nonRepudiation ; sign
    return {
        EF_DIR: tlv(0x61, tlv(0x4F, aid), tlv(0x50, b"CPS"), tlv(0x51, APP_DF)) + b"\xff" * 8,
        ODF: tlv(0xA0, path(PRKDF)) + tlv(0xA4, path(CDF)) + tlv(0xA8, path(AODF)),
        PRKDF: private_key("Signature CPS", b"\x02", sign_usage, SIGN_KEY_REFERENCE)
        + private_key("Authentification CPS", b"\x01", auth_usage, AUTH_KEY_REFERENCE),
        CDF: certificate("Certificat de Signature CPS", b"\x02", SIGN_CERT[-2:])
        + certificate("Certificat d'Authentification CPS", b"\x01", AUTH_CERT[-2:]),
        AODF: tlv(
            0x30,
            tlv(0x30, label("PIN CPS")),
            tlv(0x30, tlv(0x04, b"\x01")),
            tlv(
                0xA1,
                tlv(
                    0x30, bits(1), tlv(0x0A, b"\x01"), integer(4), integer(PIN_STORED_LENGTH),
                    integer(8), tlv(0x80, bytes([PIN_REFERENCE])), tlv(0x04, b"\xff"),
                ),
            ),
        ),
        AUTH_CERT: auth_der + b"\xff" * 32,
        SIGN_CERT: sign_der,
    }
