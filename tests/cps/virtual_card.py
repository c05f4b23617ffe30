"""A virtual CPS card for pcscd's vpcd driver: a TCP client of the virtual reader.

vpcd frames every message as a 2-byte big-endian length and a payload. A 1-byte payload is a
control (0 power off, 1 power on, 2 reset, 4 "send your ATR"); anything longer is a command APDU,
answered with the response APDU. The card answers what `confrere_cps.pcsc` sends to a CPS: SELECT
(application by AID, file by id, by path from the MF or from the current DF), READ BINARY of its
PKCS#15 files (`card_layout`), VERIFY (tries counter, blocking at zero), MSE SET and INTERNAL
AUTHENTICATE (PKCS#1 v1.5 over the DigestInfo it is given, with the card's RSA key, which is
what the real card does; only with the authentication key reference).

`remove_on` makes the card vanish (close the socket) when a command with that INS arrives:
the reader sees the card pulled out mid-way.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

from confrere_cps.pcsc import CPS_AIDS

from tests.cps import card_layout as layout
from tests.cps.pki import CardIdentity, signature_certificate

CPS_AID = CPS_AIDS[0]

VPCD_PORTS = (35963, 35964)  # readers "Virtual PCD 00 00" and "Virtual PCD 00 01"
ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")  # any valid ATR shape


def sw(value: int) -> bytes:
    return value.to_bytes(2, "big")


class VirtualCard:
    def __init__(
        self,
        identity: CardIdentity | None,
        *,
        pin: str = "1234",
        tries: int = 3,
        aid: bytes = CPS_AID,
        remove_on: int | None = None,
        port: int = VPCD_PORTS[0],
    ) -> None:
        self.identity = identity
        self.pin = pin.encode()
        self.max_tries = 3
        self.tries = tries
        self.aid = aid
        self.remove_on = remove_on
        self.port = port
        self.commands: list[int] = []  # INS bytes seen, for assertions
        self.files_read: list[bytes] = []  # full paths of the files read, in order
        self.files = (
            layout.files(aid, identity.der, signature_certificate(identity)) if identity else {}
        )
        self._reset()
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- life cycle ---------------------------------------------------------------------
    def insert(self, timeout: float = 10) -> VirtualCard:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._socket = socket.create_connection(("127.0.0.1", self.port), timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self._socket.settimeout(0.5)
        self._thread = threading.Thread(target=self._serve, name="virtual-cps", daemon=True)
        self._thread.start()
        return self

    def remove(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._close()

    def _close(self) -> None:
        if self._socket is not None:
            try:
                self._socket.close()
            finally:
                self._socket = None

    def _reset(self) -> None:
        self.current_df = layout.MF
        self.current_ef: bytes | None = None
        self.pin_ok = False
        self.environment_set = False

    # -- the socket protocol ------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stop.is_set() and self._socket is not None:
            try:
                header = self._receive(2)
                if header is None:
                    continue
                (length,) = struct.unpack(">H", header)
                payload = self._receive(length, wait=True)
            except OSError:
                break
            if payload is None:
                break
            if length == 1:
                answer = self._control(payload[0])
            else:
                if self.remove_on is not None and payload[1] == self.remove_on:
                    self._close()
                    break
                answer = self.process(payload)
            if answer is not None:
                self._socket.sendall(struct.pack(">H", len(answer)) + answer)

    def _receive(self, count: int, wait: bool = False) -> bytes | None:
        data = b""
        while len(data) < count:
            try:
                chunk = self._socket.recv(count - len(data))
            except TimeoutError:
                if not data and not wait:
                    return None
                if self._stop.is_set():
                    raise OSError("stopped")
                continue
            if not chunk:
                raise OSError("closed by the reader")
            data += chunk
        return data

    def _control(self, code: int) -> bytes | None:
        if code in (0, 1, 2):  # power off / on / reset: volatile state is lost
            self._reset()
            return None
        if code == 4:
            return ATR
        return None

    # -- the card -----------------------------------------------------------------------
    def process(self, apdu: bytes) -> bytes:
        _, ins, p1, p2 = apdu[:4]
        self.commands.append(ins)
        data = apdu[5 : 5 + apdu[4]] if len(apdu) > 5 else b""
        le = apdu[4] if len(apdu) == 5 else None
        if ins == 0xA4:
            return self._select(p1, data)
        if ins == 0xB0:
            return self._read_binary((p1 << 8) | p2, le if le else 256)
        if ins == 0x20:
            return self._verify(p2, data)
        if ins == 0x22:
            return self._mse_set(p1, p2, data)
        if ins == 0x88:
            return self._internal_authenticate(data)
        return sw(0x6D00)

    @property
    def app_selected(self) -> bool:
        return self.current_df == layout.APP_DF

    def _select(self, p1: int, data: bytes) -> bytes:
        if p1 == 0x04:  # by AID
            if data != self.aid:
                return sw(0x6A82)
            self.current_df, self.current_ef = layout.APP_DF, None
            return sw(0x9000)
        target = {
            0x00: data if data == layout.MF else self.current_df + data,
            0x02: self.current_df + data,  # EF under the current DF
            0x08: layout.MF + data,  # path from the MF
            0x09: self.current_df + data,  # path from the current DF
        }.get(p1)
        if target in (layout.MF, layout.APP_DF):
            self.current_df, self.current_ef = target, None
            return sw(0x9000)
        if target not in self.files:
            return sw(0x6A82)
        self.current_df, self.current_ef = target[:-2], target
        return sw(0x9000)

    def _read_binary(self, offset: int, length: int) -> bytes:
        if self.current_ef is None:
            return sw(0x6986)
        content = self.files[self.current_ef]
        if offset == 0:
            self.files_read.append(self.current_ef)
        if offset > len(content):
            return sw(0x6B00)
        chunk = content[offset : offset + length]
        return chunk + (sw(0x9000) if len(chunk) == length else sw(0x6282))

    def _verify(self, reference: int, data: bytes) -> bytes:
        if reference != layout.PIN_REFERENCE:
            return sw(0x6A88)
        if self.tries == 0:
            return sw(0x6983)
        if not data:
            return sw(0x9000) if self.pin_ok else sw(0x63C0 | self.tries)
        if data.rstrip(b"\xff") == self.pin:
            self.tries, self.pin_ok = self.max_tries, True
            return sw(0x9000)
        self.tries -= 1
        self.pin_ok = False
        return sw(0x6983) if self.tries == 0 else sw(0x63C0 | self.tries)

    def _mse_set(self, p1: int, p2: int, data: bytes) -> bytes:
        if (p1, p2) != (0x41, 0xA4) or not self.app_selected:
            return sw(0x6A80)
        if bytes([0x84, 1, layout.AUTH_KEY_REFERENCE]) not in data:
            return sw(0x6A88)  # only the authentication key signs a challenge
        self.environment_set = True
        return sw(0x9000)

    def _internal_authenticate(self, digest_info: bytes) -> bytes:
        if not self.pin_ok:
            return sw(0x6982)
        if not self.environment_set:
            return sw(0x6985)
        numbers = self.identity.key.private_numbers()
        modulus = numbers.public_numbers.n
        size = (modulus.bit_length() + 7) // 8
        if len(digest_info) > size - 11:
            return sw(0x6700)
        block = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
        signature = pow(int.from_bytes(block, "big"), numbers.d, modulus)
        return signature.to_bytes(size, "big") + sw(0x9000)
