"""Encryption at rest of the off-site copies: AES-256-GCM in authenticated chunks.

The format is tested byte by byte (round trip at every size around the chunk boundary, a flipped
byte anywhere, cut, reordered, dropped, duplicated or appended chunks, a wrong key), in bounded
memory, and end to end against moto with real backups of both databases: the object in the
bucket is not the dump, its checksum is read back, and a fetched copy is decrypted, checked
against the manifest and passes the full verification (trial restore included)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import math
import os
import tracemalloc
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from secrets_kit import admin_client

from rotaguard.backups import BackupError, BackupStatus, BackupStore, Offsite
from rotaguard.backups import offsite as offsite_module
from rotaguard.backups.crypto import (
    HEADER_SIZE,
    MAGIC,
    TAG_SIZE,
    EncryptionError,
    decrypt_stream,
    encrypt_file,
    encrypt_stream,
    key_id,
)
from rotaguard.backups.manifest import Manifest, file_sha256, write_manifest
from rotaguard.backups.offsite import OffsiteStore, fetch_offsite
from rotaguard.settings import Settings

CHUNK = 1024  # the smallest chunk a reader accepts: many chunks from little data
CHAOS = os.environ.get("ROTAGUARD_CHAOS") == "1"
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def _seal(plain: bytes, key: bytes = KEY, chunk_size: int = CHUNK) -> bytes:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(plain), out, key, chunk_size=chunk_size)
    return out.getvalue()


def _open(sealed: bytes, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(sealed), out, key, what="the copy")
    return out.getvalue()


def _refused(sealed: bytes, key: bytes = KEY) -> str:
    """The one-line reason a damaged copy is refused."""
    with pytest.raises(EncryptionError) as refused:
        _open(sealed, key)
    message = str(refused.value)
    assert "\n" not in message and message.startswith("the copy ")
    return message


def _chunks(sealed: bytes) -> list[bytes]:
    body = sealed[HEADER_SIZE:]
    size = CHUNK + TAG_SIZE
    return [body[i : i + size] for i in range(0, len(body), size)]


def _entropy_bits_per_byte(data: bytes) -> float:
    counts = Counter(data)
    return -sum(n / len(data) * math.log2(n / len(data)) for n in counts.values())


# ---------------------------------------------------------------------- the format


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7])
def test_round_trip_at_every_size_around_the_chunk_boundary(size):
    plain = os.urandom(size)
    sealed = _seal(plain)
    assert sealed.startswith(MAGIC)
    # One tag per chunk, and a final chunk (empty when the size is a multiple of the chunk).
    assert len(sealed) == HEADER_SIZE + size + (size // CHUNK + 1) * TAG_SIZE
    out = io.BytesIO()
    assert decrypt_stream(io.BytesIO(sealed), out, KEY) == hashlib.sha256(plain).hexdigest()
    assert out.getvalue() == plain


@hypothesis_settings(max_examples=40, deadline=None)
@given(plain=st.binary(max_size=5 * CHUNK), chunk_size=st.sampled_from([CHUNK, 2 * CHUNK, 4096]))
def test_round_trip_of_any_bytes(plain, chunk_size):
    assert _open(_seal(plain, chunk_size=chunk_size)) == plain


def test_the_same_backup_sealed_twice_differs_and_looks_random():
    plain = b"INSERT INTO assignments VALUES ('R2-01', '2026-03-12', 'AM');\n" * 2000
    first, second = _seal(plain), _seal(plain)
    assert first != second  # a fresh salt, so a fresh file key, every time
    assert b"assignments" not in first and _entropy_bits_per_byte(first[HEADER_SIZE:]) > 7.9


# Offsets into a copy of three full chunks and an empty final one.
DAMAGE = {
    "magic": 0,
    "format version": len(MAGIC),
    "chunk size": len(MAGIC) + 1,
    "key id": len(MAGIC) + 5,
    "salt": HEADER_SIZE - 1,
    "first chunk's data": HEADER_SIZE + 10,
    "first chunk's tag": HEADER_SIZE + CHUNK + 3,
    "middle chunk": HEADER_SIZE + (CHUNK + TAG_SIZE) + 500,
    "final chunk's tag": -1,
}


@pytest.mark.parametrize("where", list(DAMAGE))
def test_a_flipped_byte_anywhere_is_refused(where):
    sealed = bytearray(_seal(os.urandom(3 * CHUNK)))
    sealed[DAMAGE[where]] ^= 0x01
    message = _refused(bytes(sealed))
    assert any(
        word in message
        for word in (
            "failed authentication",
            "not a RotaGuard",
            "format version",
            "encrypted with backup key",
            "damaged header",
        )
    )


@pytest.mark.parametrize(
    "cut",
    {
        "inside the header": lambda s: s[: HEADER_SIZE - 3],
        "after the header": lambda s: s[:HEADER_SIZE],
        "at a chunk boundary": lambda s: s[: HEADER_SIZE + 2 * (CHUNK + TAG_SIZE)],
        "inside a chunk": lambda s: s[: HEADER_SIZE + CHUNK + TAG_SIZE + 100],
        "the final chunk's tag": lambda s: s[:-5],
    }.items(),
    ids=lambda item: item[0],
)
def test_a_truncated_copy_is_refused(cut):
    _, truncate = cut
    sealed = _seal(os.urandom(3 * CHUNK + 100))
    message = _refused(truncate(sealed))
    assert any(word in message for word in ("truncated", "failed authentication", "not a RotaGuard"))


@pytest.mark.parametrize(
    "rearrange",
    {
        "two chunks swapped": lambda c: [c[1], c[0], *c[2:]],
        "a chunk dropped": lambda c: [c[0], *c[2:]],
        "a chunk repeated": lambda c: [c[0], c[0], *c[1:]],
        "bytes after the final chunk": lambda c: [*c, b"\x00" * 40],
        "a chunk from another copy": None,
    }.items(),
    ids=lambda item: item[0],
)
def test_reordered_dropped_or_added_chunks_are_refused(rearrange):
    name, change = rearrange
    plain = os.urandom(3 * CHUNK + 100)
    sealed = _seal(plain)
    chunks = _chunks(sealed)
    if change is None:  # same key, other file: its own file key, so the chunk does not authenticate
        change = lambda c: [c[0], _chunks(_seal(plain))[1], *c[2:]]  # noqa: E731
    assert "failed authentication" in _refused(sealed[:HEADER_SIZE] + b"".join(change(chunks)))


def test_a_copy_opens_only_for_the_backup_it_was_sealed_for():
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(b"schedule"), out, KEY, chunk_size=CHUNK, context=b"rotaguard backup A")
    opened = io.BytesIO()
    decrypt_stream(io.BytesIO(out.getvalue()), opened, KEY, context=b"rotaguard backup A")
    assert opened.getvalue() == b"schedule"
    with pytest.raises(EncryptionError, match="another backup's copy"):
        decrypt_stream(io.BytesIO(out.getvalue()), io.BytesIO(), KEY, context=b"rotaguard backup B")


def test_a_wrong_key_is_named_and_refused_before_decrypting():
    message = _refused(_seal(b"schedule"), key=OTHER_KEY)
    assert (
        message
        == f"the copy was encrypted with backup key {key_id(KEY)}, but ROTAGUARD_BACKUP_ENCRYPTION_KEY is key {key_id(OTHER_KEY)}"
    )
    assert KEY.hex() not in message and base64.b64encode(KEY).decode() not in message


def test_a_plaintext_file_is_not_taken_for_a_sealed_one():
    assert "not a RotaGuard encrypted backup" in _refused(b"PGDMP" + os.urandom(200))


def _stream_in_bounded_memory(tmp_path, size: int) -> None:
    """Seal and open a file of ``size`` bytes; the peak of Python allocations stays a few chunks."""
    plain = tmp_path / "big.dump"
    with plain.open("wb") as handle:
        block = os.urandom(1024 * 1024)
        for _ in range(size // len(block)):
            handle.write(block)
    sealed, opened = tmp_path / "big.enc", tmp_path / "big.out"
    tracemalloc.start()
    try:
        plain_sha256, _ = encrypt_file(plain, sealed, KEY)
        with sealed.open("rb") as source, opened.open("wb") as target:
            opened_sha256 = decrypt_stream(source, target, KEY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert plain_sha256 == opened_sha256 == file_sha256(plain)
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes for a {size}-byte file"


def test_a_large_dump_never_has_to_fit_in_memory(tmp_path):
    _stream_in_bounded_memory(tmp_path, 32 * 1024 * 1024)


@pytest.mark.skipif(not CHAOS, reason="ROTAGUARD_CHAOS=1 only: half a gigabyte through the cipher")
def test_half_a_gigabyte_streams_in_bounded_memory(tmp_path):
    _stream_in_bounded_memory(tmp_path, 512 * 1024 * 1024)


# ---------------------------------------------------------------------- the setting


MALFORMED_KEYS = [
    ("not base64 at all!", "is not base64"),
    (base64.b64encode(os.urandom(16)).decode(), "decodes to 16 bytes, AES-256 needs 32"),
    (base64.b64encode(os.urandom(33)).decode(), "decodes to 33 bytes, AES-256 needs 32"),
]


def test_a_malformed_key_is_one_line_naming_the_variable_and_nothing_is_written(cli, tmp_path, monkeypatch):
    for value, problem in MALFORMED_KEYS:
        monkeypatch.setenv("ROTAGUARD_BACKUP_ENCRYPTION_KEY", value)
        result = cli("backup", "create")
        assert result.code == 1 and result.out == ""
        assert (
            result.err.startswith(f"rotaguard: error: ROTAGUARD_BACKUP_ENCRYPTION_KEY: {problem}")
            and result.err.count("\n") == 1
        )
        assert value not in result.err
        assert not (tmp_path / "home").exists()


# ---------------------------------------------------------------------- off-site copies, end to end


def _settings(endpoint: str, bucket: str, key: bytes | None) -> Settings:
    return Settings(
        s3_bucket=bucket,
        s3_endpoint_url=endpoint,
        s3_region="us-east-1",
        s3_access_key_id="AKIASYNTHETICTEST",
        s3_secret_access_key="synthetic-secret",
        backup_encryption_key=base64.b64encode(key).decode() if key else None,
    )


def _object(endpoint: str, bucket: str, key: str) -> bytes:
    return admin_client(endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()


def _replace_object(endpoint: str, bucket: str, key: str, body: bytes) -> None:
    admin_client(endpoint).put_object(Bucket=bucket, Key=key, Body=body)


def test_encrypted_copy_round_trips_and_the_fetched_backup_verifies(store, s3_endpoint, bucket, tmp_path):
    manifest = store.create()
    local = manifest.path_in(store.directory).read_bytes()
    copied, error = OffsiteStore(_settings(s3_endpoint, bucket, KEY)).copy(manifest, store.directory)
    assert error is None and copied.offsite is Offsite.COPIED and copied.offsite_key == f"rotaguard/{manifest.file}.enc"
    stored = _object(s3_endpoint, bucket, copied.offsite_key)
    # Not the dump: neither PostgreSQL's nor SQLite's header, no schema text, random-looking bytes.
    assert stored.startswith(MAGIC) and not stored.startswith((b"PGDMP", b"SQLite format 3"))
    assert b"assignments" not in stored and b"CREATE TABLE" not in stored and local[:64] not in stored
    assert _entropy_bits_per_byte(stored[HEADER_SIZE:]) > 7.9
    head = admin_client(s3_endpoint).head_object(Bucket=bucket, Key=copied.offsite_key, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(stored).digest()).decode()
    assert (
        head["Metadata"]["rotaguard-key-id"] == key_id(KEY)
        and head["Metadata"]["rotaguard-plaintext-sha256"] == manifest.sha256
    )
    assert not list(store.directory.glob(".*"))  # the sealed temporary file is gone

    # A machine that lost its backups: the manifest and the copy come from the bucket.
    store.update(copied)
    elsewhere = tmp_path / "restored-backups"
    fetched = fetch_offsite(_settings(s3_endpoint, bucket, KEY), manifest.id, elsewhere)
    assert fetched.status is BackupStatus.UNVERIFIED and (elsewhere / manifest.file).read_bytes() == local
    verified, checks = BackupStore(database=store.database, directory=elsewhere).verify(manifest.id)
    assert verified.status is BackupStatus.VERIFIED, [c for c in checks if not c.ok]


def _synthetic_backup(directory, size: int, *, name: str = "rotaguard_20260312_020000") -> Manifest:
    """A backup file and manifest without a database (copying and fetching never read one)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.dump"
    with path.open("wb") as handle:
        handle.write(os.urandom(size))
    manifest = Manifest(
        id=name,
        label="regular",
        created_at=dt.datetime(2026, 3, 12, 2, tzinfo=dt.UTC),
        database_kind="sqlite",
        database_name="rotaguard.db",
        schema_revision=None,
        file=path.name,
        size_bytes=size,
        sha256=file_sha256(path),
        tables={},
    )
    write_manifest(manifest, directory)
    return manifest


def _copied(
    directory, endpoint: str, bucket: str, key: bytes | None, *, name: str = "rotaguard_20260312_020000"
) -> Manifest:
    """A synthetic backup copied off-site: what is tested here is the copy, not the database."""
    manifest = _synthetic_backup(directory, 3 * 1024 * 1024 + 123, name=name)
    copied, error = OffsiteStore(_settings(endpoint, bucket, key)).copy(manifest, directory)
    assert error is None
    return copied


def _assert_fetch_refused(settings: Settings, manifest: Manifest, directory, *expected: str) -> str:
    with pytest.raises(BackupError) as refused:
        OffsiteStore(settings).fetch(manifest, directory)
    message = str(refused.value)
    assert "\n" not in message and all(part in message for part in expected), message
    assert not directory.exists() or list(directory.iterdir()) == []  # nothing left behind
    return message


@pytest.mark.parametrize("damage", ["a flipped byte", "truncated", "a chunk appended"])
def test_a_damaged_copy_in_the_bucket_is_refused(s3_endpoint, bucket, tmp_path, damage):
    copied = _copied(tmp_path / "backups", s3_endpoint, bucket, KEY)
    stored = bytearray(_object(s3_endpoint, bucket, copied.offsite_key))
    if damage == "a flipped byte":
        stored[len(stored) // 2] ^= 0x80
    elif damage == "truncated":
        del stored[-100:]
    else:
        stored += stored[HEADER_SIZE : HEADER_SIZE + 200]
    _replace_object(s3_endpoint, bucket, copied.offsite_key, bytes(stored))
    _assert_fetch_refused(
        _settings(s3_endpoint, bucket, KEY), copied, tmp_path / "fetch", copied.offsite_key, "failed authentication"
    )


def test_a_wrong_or_missing_key_is_refused_in_one_line(s3_endpoint, bucket, tmp_path):
    copied = _copied(tmp_path / "backups", s3_endpoint, bucket, KEY)
    _assert_fetch_refused(
        _settings(s3_endpoint, bucket, OTHER_KEY),
        copied,
        tmp_path / "wrong",
        f"encrypted with backup key {key_id(KEY)}",
        f"is key {key_id(OTHER_KEY)}",
    )
    _assert_fetch_refused(
        _settings(s3_endpoint, bucket, None),
        copied,
        tmp_path / "none",
        "is encrypted, but ROTAGUARD_BACKUP_ENCRYPTION_KEY is not set",
    )


def test_without_a_key_copies_are_plain_as_before_and_a_key_refuses_them(s3_endpoint, bucket, tmp_path):
    copied = _copied(tmp_path / "backups", s3_endpoint, bucket, None)
    assert copied.offsite_key == f"rotaguard/{copied.file}"
    assert _object(s3_endpoint, bucket, copied.offsite_key) == copied.path_in(tmp_path / "backups").read_bytes()
    assert OffsiteStore(_settings(s3_endpoint, bucket, None)).fetch(copied, tmp_path / "plain").sha256 == copied.sha256
    # With a key set, an unsealed object could have been put there by anyone who can write the bucket.
    _assert_fetch_refused(
        _settings(s3_endpoint, bucket, KEY), copied, tmp_path / "keyed", "is not encrypted", "refusing"
    )
    allowed = OffsiteStore(_settings(s3_endpoint, bucket, KEY)).fetch(
        copied, tmp_path / "allowed", allow_plaintext=True
    )
    assert file_sha256(allowed.path_in(tmp_path / "allowed")) == copied.sha256


@pytest.mark.parametrize("key", [KEY, None], ids=["sealed", "plain"])
def test_another_backups_copy_in_its_place_is_refused(s3_endpoint, bucket, tmp_path, key):
    first = _copied(tmp_path / "backups", s3_endpoint, bucket, key)
    second = _copied(tmp_path / "backups", s3_endpoint, bucket, key, name="rotaguard_20260313_020000")
    # A genuine copy, but of another backup: a sealed one is bound to its backup's id, a plain one
    # has the wrong SHA-256.
    _replace_object(s3_endpoint, bucket, first.offsite_key, _object(s3_endpoint, bucket, second.offsite_key))
    expected = "is another backup's copy" if key else f"is not backup {first.id}"
    _assert_fetch_refused(_settings(s3_endpoint, bucket, key), first, tmp_path / "swapped", expected)


def test_a_wrong_checksum_stored_by_the_server_leaves_the_copy_pending(s3_endpoint, bucket, tmp_path, monkeypatch):
    """moto stores whatever arrives: the read-back compares its checksum with the sealed file's."""
    monkeypatch.setattr(offsite_module, "BACKOFF_SECONDS", (0.01, 0.01, 0.01))
    manifest = _synthetic_backup(tmp_path / "backups", 4000)
    real_upload = OffsiteStore._upload

    def damaged_in_transit(self, path, key, metadata):
        altered = path.with_name(path.name + ".altered")
        data = bytearray(path.read_bytes())
        data[-1] ^= 0x01
        altered.write_bytes(bytes(data))
        try:
            real_upload(self, altered, key, metadata)
        finally:
            altered.unlink()

    monkeypatch.setattr(OffsiteStore, "_upload", damaged_in_transit)
    pending, error = OffsiteStore(_settings(s3_endpoint, bucket, KEY)).copy(manifest, tmp_path / "backups")
    assert pending.offsite is Offsite.PENDING and "S3 holds checksum" in error


def test_a_multipart_encrypted_copy_is_confirmed_and_fetched(s3_endpoint, bucket, tmp_path, monkeypatch):
    monkeypatch.setattr(offsite_module, "MULTIPART_THRESHOLD", 5 * 1024 * 1024)
    monkeypatch.setattr(offsite_module, "PART_SIZE", 5 * 1024 * 1024)
    manifest = _synthetic_backup(tmp_path / "backups", 11 * 1024 * 1024)
    settings = _settings(s3_endpoint, bucket, KEY)
    copied, error = OffsiteStore(settings).copy(manifest, tmp_path / "backups")
    assert error is None and copied.offsite is Offsite.COPIED
    head = admin_client(s3_endpoint).head_object(Bucket=bucket, Key=copied.offsite_key, ChecksumMode="ENABLED")
    assert head["ContentLength"] > manifest.size_bytes and head["ChecksumSHA256"]  # sealed: tags and header added
    fetched = OffsiteStore(settings).fetch(copied, tmp_path / "fetched")
    assert file_sha256(fetched.path_in(tmp_path / "fetched")) == manifest.sha256


def test_a_manifest_from_the_bucket_cannot_point_outside_the_directory(s3_endpoint, bucket, tmp_path):
    manifest = _synthetic_backup(tmp_path / "backups", 2000)
    settings = _settings(s3_endpoint, bucket, KEY)
    copied, _ = OffsiteStore(settings).copy(manifest, tmp_path / "backups")
    hostile = copied.model_copy(update={"file": "../../outside.dump"})
    _replace_object(s3_endpoint, bucket, f"{copied.offsite_key}.manifest.json", hostile.model_dump_json().encode())
    with pytest.raises(BackupError, match="names file '../../outside.dump'"):
        fetch_offsite(settings, manifest.id, tmp_path / "fetch")
    assert not (tmp_path / "outside.dump").exists()
