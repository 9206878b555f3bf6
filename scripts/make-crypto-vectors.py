#!/usr/bin/env python3
"""Test vectors for drctl's cryptography (docs/FORMAT.md, "Encryption"), computed with
Python's `cryptography` package: an implementation independent of drctl's Swift/OpenSSL code.

Prints the vectors as JSON. Tests/DrctlCryptoTests/VectorTests.swift and
docs/FORMAT.md ("Test vectors") carry the same values; rerun this after any format change and compare.
Run it with the test tools' interpreter, where `cryptography` is installed (scripts/install-deps.sh):
    .venv/bin/python3 scripts/make-crypto-vectors.py
"""
import base64
import hashlib
import hmac
import json
import struct

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand32(prk: bytes, info: bytes) -> bytes:
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def seal(data_key: bytes, salt: bytes, backup_id: str, name: str, chunk_log2: int, plaintext: bytes) -> bytes:
    prk = hkdf_extract(salt, data_key)
    chunk_key = hkdf_expand32(prk, b"drctl v1 chunk")
    header_key = hkdf_expand32(prk, b"drctl v1 header")
    bid, nm = backup_id.encode(), name.encode()
    body = (b"DRCTLSS1" + bytes([1, chunk_log2]) + salt
            + struct.pack(">H", len(bid)) + bid + struct.pack(">H", len(nm)) + nm)
    tag = hmac.new(header_key, body, hashlib.sha256).digest()
    out = bytearray(body + tag)
    size = 1 << chunk_log2
    chunks = [plaintext[i:i + size] for i in range(0, len(plaintext), size)] or [b""]
    if len(plaintext) > 0 and len(plaintext) % size == 0:
        pass  # the last full chunk is the final one
    aead = AESGCM(chunk_key)
    for i, chunk in enumerate(chunks):
        final = i == len(chunks) - 1
        nonce = i.to_bytes(11, "big") + (b"\x01" if final else b"\x00")
        out += aead.encrypt(nonce, chunk, tag)
    return bytes(out)


def public_of(secret: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: bytes) -> str:
    return hashlib.sha256(b"drctl key id v1" + public).digest()[:8].hex()


def main() -> None:
    data_key = bytes(range(0x00, 0x20))
    salt = b"\x42" * 32
    backup_id = "20260101T000000Z-0a1b2c"
    name = "stdout"
    secret = bytes(range(0x01, 0x21))
    public = public_of(secret)
    aad = b"drctl v1 wrap\x00" + backup_id.encode()

    streams = {}
    for label, plaintext in [("empty", b""), ("hello", b"hello"),
                             ("2500", bytes(i % 251 for i in range(2500)))]:
        sealed = seal(data_key, salt, backup_id, name, 10, plaintext)
        streams[label] = {
            "plaintext_length": len(plaintext),
            "sealed_length": len(sealed),
            "sealed_sha256": hashlib.sha256(sealed).hexdigest(),
            "sealed_first_100_hex": sealed[:100].hex(),
            "sealed_hex": sealed.hex() if len(sealed) <= 200 else None,
        }

    # Symmetric wrap of data key 0xa0..0xbf with the secret key, fixed nonce 0x10..0x1b.
    wrap_data_key = bytes(range(0xa0, 0xc0))
    sym_nonce = bytes(range(0x10, 0x1c))
    kek = hkdf(secret, b"", b"drctl v1 symmetric wrap")
    sym = {
        "scheme": "aes-256-gcm-hkdf-sha256",
        "key_id": key_id(public),
        "nonce": base64.b64encode(sym_nonce).decode(),
        "ciphertext": base64.b64encode(AESGCM(kek).encrypt(sym_nonce, wrap_data_key, aad)).decode(),
    }

    # X25519 wrap of the same data key to the public key, ephemeral secret 0x41..0x60, nonce 0x20..0x2b.
    eph_secret = bytes(range(0x41, 0x61))
    eph_public = public_of(eph_secret)
    shared = X25519PrivateKey.from_private_bytes(eph_secret).exchange(X25519PublicKey.from_public_bytes(public))
    x_kek = hkdf(shared, eph_public + public, b"drctl v1 x25519 wrap")
    x_nonce = bytes(range(0x20, 0x2c))
    x = {
        "scheme": "x25519-hkdf-sha256-aes-256-gcm",
        "key_id": key_id(public),
        "ephemeral_public_key": base64.b64encode(eph_public).decode(),
        "nonce": base64.b64encode(x_nonce).decode(),
        "ciphertext": base64.b64encode(AESGCM(x_kek).encrypt(x_nonce, wrap_data_key, aad)).decode(),
    }

    # Version 2 (docs/FORMAT.md, "Version 2"): a manifest's MAC and signature over its exact
    # stored bytes, the values zeroed in place; the signing seed derived from the secret key.
    repository_id, target, v2_id = "00112233445566778899aabbccddeeff", "app", "20260101T000000.000Z-0a1b2c"
    seed = hkdf(secret, b"", b"drctl v2 signing key")
    signer = Ed25519PrivateKey.from_private_bytes(seed)
    signer_public = signer.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    signer_id = hashlib.sha256(b"drctl signer id v2" + signer_public).hexdigest()[:16]
    zeroed = ('{\n  "authentication" : {\n    "mac" : "' + "0" * 64 + '",\n    "signature" : "' + "0" * 128
              + '",\n    "signer" : "' + signer_id + '"\n  },\n  "backup_id" : "' + v2_id
              + '",\n  "target" : "' + target + '"\n}\n').encode()
    context = f"drctl v2 manifest\0{repository_id}\0{target}\0{v2_id}\0".encode()
    mac = hmac.new(hkdf(data_key, b"", b"drctl v2 manifest mac"), context + zeroed, hashlib.sha256).hexdigest()
    signature = signer.sign(context + zeroed).hex()
    stored = zeroed.replace(b"0" * 128, signature.encode(), 1).replace(b'"mac" : "' + b"0" * 64, b'"mac" : "' + mac.encode(), 1)
    v2 = {
        "repository_id": repository_id, "target": target, "backup_id": v2_id,
        "signing_seed_hex": seed.hex(), "signer_public_hex": signer_public.hex(), "signer_id": signer_id,
        "zeroed_manifest": zeroed.decode(), "mac": mac, "signature": signature,
        "stored_sha256": hashlib.sha256(stored).hexdigest(),
    }

    print(json.dumps({
        "v2_manifest": v2,
        "inputs": {
            "data_key_hex": data_key.hex(), "salt_hex": salt.hex(), "backup_id": backup_id,
            "object_name": name, "chunk_log2": 10, "plaintext_2500": "byte i = i % 251",
            "secret_key_hex": secret.hex(), "wrap_data_key_hex": wrap_data_key.hex(),
            "x25519_ephemeral_secret_hex": eph_secret.hex(),
        },
        "public_key_hex": public.hex(),
        "key_id": key_id(public),
        "secret_key_file": "drctl-secret-key-v1 " + base64.b64encode(secret).decode(),
        "public_key_file": "drctl-public-key-v1 " + base64.b64encode(public).decode(),
        "streams": streams,
        "wrap_symmetric": sym,
        "wrap_x25519": x,
    }, indent=2))


if __name__ == "__main__":
    main()
