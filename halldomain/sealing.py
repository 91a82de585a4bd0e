"""Sealing an offline real-name ticket's ID card so only the hall's server can open it.

A kiosk that issues a real-name ticket from a lease must keep what the server needs at sync
(the ID number and name) across a restart, yet its disk must never hold them in the clear.
The server publishes an X25519 public key with every lease; the kiosk seals the card to it
(ephemeral X25519 key agreement, HKDF-SHA256, AES-256-GCM, the ticket's idempotency key as
associated data) and stores only the sealed text. The kiosk keeps no key that opens it: only
the server's private key, derived from the hall's secret that lives in its database, does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

VERSION = "s1"
_INFO = b"hall offline card seal v1"


class SealError(ValueError):
    """The sealed text is malformed, was made for another key, or was tampered with."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def server_private_key(hall_secret: bytes) -> X25519PrivateKey:
    """The server's sealing key, derived from its hall secret (so backups carry it)."""
    seed = hmac.new(hall_secret, b"offline-card-seal", hashlib.sha256).digest()
    return X25519PrivateKey.from_private_bytes(seed)


def public_key_text(hall_secret: bytes) -> str:
    raw = server_private_key(hall_secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return _b64(raw)


def _aead_key(shared: bytes, eph: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=eph, info=_INFO).derive(shared)


def seal(public_key: str, id_number: str, name: str, bound_to: str) -> str:
    """The card sealed to the server's `public_key`, valid only for the ticket `bound_to`."""
    try:
        server = X25519PublicKey.from_public_bytes(_unb64(public_key))
    except ValueError as err:
        raise SealError("not a sealing key") from err
    eph = X25519PrivateKey.generate()
    eph_raw = eph.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = _aead_key(eph.exchange(server), eph_raw)
    nonce = os.urandom(12)
    plain = json.dumps({"id_number": id_number, "name": name}, ensure_ascii=False).encode()
    sealed = AESGCM(key).encrypt(nonce, plain, bound_to.encode())
    return f"{VERSION}.{_b64(eph_raw + nonce + sealed)}"


def unseal(hall_secret: bytes, text: str, bound_to: str) -> tuple[str, str]:
    """(ID number, name) from a sealed card; `SealError` if it does not open."""
    version, _, body = text.partition(".")
    if version != VERSION:
        raise SealError("unknown seal version")
    try:
        raw = _unb64(body)
    except ValueError as err:
        raise SealError("not base64") from err
    if len(raw) < 32 + 12 + 16:
        raise SealError("too short")
    eph_raw, nonce, sealed = raw[:32], raw[32:44], raw[44:]
    try:
        eph = X25519PublicKey.from_public_bytes(eph_raw)
        key = _aead_key(server_private_key(hall_secret).exchange(eph), eph_raw)
        plain = AESGCM(key).decrypt(nonce, sealed, bound_to.encode())
        card = json.loads(plain)
    except (InvalidTag, ValueError) as err:
        raise SealError("does not open") from err
    if not isinstance(card, dict):
        raise SealError("not a card")
    return str(card.get("id_number") or ""), str(card.get("name") or "")
