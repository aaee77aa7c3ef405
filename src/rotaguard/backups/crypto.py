"""Encryption at rest for the backup copies that leave the machine: AES-256-GCM, in chunks.

A dump can be larger than memory, so it is sealed as a stream of independently authenticated
chunks (the "STREAM" construction): nothing is ever held whole, and a reader proves every
chunk before writing it out.

Layout, format version 1::

    header  = magic "RGBKENC" | version (1 byte) | chunk size (uint32, big-endian)
              | key id (8 bytes) | salt (16 random bytes)                          36 bytes
    chunk i = AES-256-GCM(file key, nonce_i, plaintext_i,
                          aad = header | len(context) (uint32) | context)      chunk size + 16

- The file key is HKDF-SHA256(master key, salt): every file gets its own key, so the nonces
  (a chunk counter) never repeat under one key however many backups are taken.
- nonce_i = i as 11 bytes, big-endian, then 1 if this is the last chunk else 0. Every chunk but
  the last holds exactly ``chunk size`` bytes; the last holds fewer (possibly none). Reordered
  or dropped chunks fail on the counter, a cut-off copy on the missing last-chunk flag,
  trailing bytes because nothing may follow the last chunk, an edited header because it is
  every chunk's associated data.
- The key id is a fingerprint of the master key (not the key): a copy sealed under another
  key is named as such before anything is decrypted.
- The caller's ``context`` (the backup's id) is authenticated with every chunk but not stored:
  a genuine copy of another backup put in this one's place does not open.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from rotaguard.backups.engines import BackupError

MAGIC = b"RGBKENC"
FORMAT_VERSION = 1
CHUNK_SIZE = 1024 * 1024
TAG_SIZE = 16
SALT_SIZE = 16
KEY_ID_SIZE = 8
KEY_SIZE = 32
_HEADER = struct.Struct(f">{len(MAGIC)}sBI{KEY_ID_SIZE}s{SALT_SIZE}s")
HEADER_SIZE = _HEADER.size
# Bounds a reader accepts before the header is authenticated: a forged size must not make it
# allocate gigabytes.
MIN_CHUNK_SIZE = 1024
MAX_CHUNK_SIZE = 64 * 1024 * 1024
_COUNTER_BYTES = 11
_HKDF_INFO = b"rotaguard backup file key v1 (AES-256-GCM chunks)"
_KEY_ID_LABEL = b"rotaguard backup key id v1\0"


class EncryptionError(BackupError):
    """An encrypted copy cannot be opened: wrong key, damaged, cut short or not ours."""


def key_id(key: bytes) -> str:
    """A fingerprint that names a key in messages and headers without revealing it."""
    return _key_id_bytes(key).hex()


def _key_id_bytes(key: bytes) -> bytes:
    return hashlib.sha256(_KEY_ID_LABEL + key).digest()[:KEY_ID_SIZE]


def _check_key(key: bytes) -> None:
    if len(key) != KEY_SIZE:
        raise ValueError(f"an AES-256 key has {KEY_SIZE} bytes, not {len(key)}")


def _file_cipher(key: bytes, salt: bytes) -> AESGCM:
    file_key = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=_HKDF_INFO).derive(key)
    return AESGCM(file_key)


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(_COUNTER_BYTES, "big") + (b"\x01" if last else b"\x00")


class Readable(Protocol):
    """What the stream functions read from: a file, a network body, a stream with its head put back."""

    def read(self, size: int, /) -> bytes: ...


class Writable(Protocol):
    """What they write to: a file, or a writer that hashes on the way through."""

    def write(self, data: bytes, /) -> object: ...


def read_exactly(source: Readable, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at the end: network streams may return short reads."""
    parts, wanted = [], size
    while wanted:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def is_encrypted(first_bytes: bytes) -> bool:
    """Whether a file starting with these bytes is one of our encrypted copies."""
    return first_bytes.startswith(MAGIC)


def _associated_data(header: bytes, context: bytes) -> bytes:
    return header + len(context).to_bytes(4, "big") + context


def encrypt_stream(
    source: Readable,
    target: Writable,
    key: bytes,
    *,
    chunk_size: int = CHUNK_SIZE,
    context: bytes = b"",
    salt: bytes | None = None,
) -> str:
    """Seal ``source`` into ``target`` chunk by chunk; returns the plaintext's SHA-256 (hex), so the
    caller can prove that what it sealed is the backup its manifest describes."""
    _check_key(key)
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk size {chunk_size} is outside {MIN_CHUNK_SIZE}..{MAX_CHUNK_SIZE}")
    salt = salt if salt is not None else os.urandom(SALT_SIZE)
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, chunk_size, _key_id_bytes(key), salt)
    cipher = _file_cipher(key, salt)
    associated = _associated_data(header, context)
    plain_digest = hashlib.sha256()
    target.write(header)
    counter = 0
    while True:
        chunk = read_exactly(source, chunk_size)
        plain_digest.update(chunk)
        last = len(chunk) < chunk_size
        target.write(cipher.encrypt(_nonce(counter, last), chunk, associated))
        if last:
            return plain_digest.hexdigest()
        counter += 1


def _parse_header(header: bytes, key: bytes, what: str) -> tuple[int, bytes]:
    """The chunk size and salt, after checking the magic, the version and the key id."""
    if len(header) < HEADER_SIZE or not is_encrypted(header):
        raise EncryptionError(f"{what} is not a RotaGuard encrypted backup (no {MAGIC.decode()} header)")
    magic, version, chunk_size, stored_key_id, salt = _HEADER.unpack(header)
    if version != FORMAT_VERSION:
        raise EncryptionError(
            f"{what} uses encryption format version {version}; this RotaGuard reads version {FORMAT_VERSION}"
        )
    if stored_key_id != _key_id_bytes(key):
        raise EncryptionError(
            f"{what} was encrypted with backup key {stored_key_id.hex()}, but ROTAGUARD_BACKUP_ENCRYPTION_KEY is key {key_id(key)}"
        )
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise EncryptionError(f"{what} has a damaged header (chunk size {chunk_size})")
    return chunk_size, salt


def decrypt_stream(
    source: Readable, target: Writable, key: bytes, *, context: bytes = b"", what: str = "the encrypted copy"
) -> str:
    """Open what :func:`encrypt_stream` sealed, writing only authenticated chunks to ``target``;
    returns the plaintext's SHA-256 (hex). Any damage raises :class:`EncryptionError` with one
    line; ``target`` may then hold a prefix and must be discarded."""
    _check_key(key)
    header = read_exactly(source, HEADER_SIZE)
    chunk_size, salt = _parse_header(header, key, what)
    cipher = _file_cipher(key, salt)
    associated = _associated_data(header, context)
    plain_digest = hashlib.sha256()
    sealed_size = chunk_size + TAG_SIZE
    counter = 0
    while True:
        sealed = read_exactly(source, sealed_size)
        last = len(sealed) < sealed_size
        if len(sealed) < TAG_SIZE:
            raise EncryptionError(f"{what} is truncated: it ends after {counter} chunks without its final chunk")
        try:
            chunk = cipher.decrypt(_nonce(counter, last), sealed, associated)
        except InvalidTag:
            # Altered bytes, reordered or dropped chunks, a cut inside a chunk, bytes appended after
            # the final chunk and another backup's copy all end here: the tag binds content,
            # position, finality and context.
            raise EncryptionError(
                f"{what} failed authentication at chunk {counter}: it was altered, reordered or cut short, or is another backup's copy"
            ) from None
        plain_digest.update(chunk)
        target.write(chunk)
        if last:
            return plain_digest.hexdigest()
        counter += 1


def encrypt_file(
    source: Path, target: Path, key: bytes, *, chunk_size: int = CHUNK_SIZE, context: bytes = b""
) -> tuple[str, str]:
    """Seal the file ``source`` into ``target``; returns the SHA-256 (hex) of the plaintext and of
    the sealed file."""
    with source.open("rb") as plain, target.open("wb") as sealed:
        writer = _HashingWriter(sealed)
        plain_sha256 = encrypt_stream(plain, writer, key, chunk_size=chunk_size, context=context)
        sealed.flush()
        os.fsync(sealed.fileno())
    return plain_sha256, writer.digest.hexdigest()


class _HashingWriter:
    """Writes through to a file and hashes what it writes (the upload's checksum, in one pass)."""

    def __init__(self, target: BinaryIO) -> None:
        self.target = target
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.target.write(data)
