"""Off-site copies in S3: upload with a SHA-256 checksum and server-side encryption, then read the
checksum back and compare it with the one computed here (a server may accept a wrong digest).

With ROTAGUARD_BACKUP_ENCRYPTION_KEY set, what leaves the machine is the backup sealed with
AES-256-GCM (:mod:`rotaguard.backups.crypto`), under the key ``<prefix><file>.enc``: the object
store, its operators and anyone who reads the bucket see only ciphertext, whatever its own
server-side encryption does. The local dump stays as it is (verify and restore read it with
pg_restore and SQLite directly). :meth:`OffsiteStore.fetch` brings a copy back: it decrypts,
proves the result is the backup its manifest describes, and only then puts it in place.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from rotaguard.backups.crypto import (
    CHUNK_SIZE,
    FORMAT_VERSION,
    HEADER_SIZE,
    EncryptionError,
    Readable,
    decrypt_stream,
    encrypt_file,
    is_encrypted,
    key_id,
    read_exactly,
)
from rotaguard.backups.engines import BackupError
from rotaguard.backups.manifest import (
    BackupStatus,
    Manifest,
    Offsite,
    file_sha256,
    manifest_path,
    read_manifest,
    write_manifest,
)
from rotaguard.backups.store import BACKUP_ID
from rotaguard.db.private_files import PRIVATE_DIRECTORY_MODE, create_private_file, writer_host
from rotaguard.settings import Settings

MULTIPART_THRESHOLD = 64 * 1024 * 1024
PART_SIZE = 16 * 1024 * 1024
ATTEMPTS = 3
BACKOFF_SECONDS = (0.5, 1.0, 2.0)
ENCRYPTED_SUFFIX = ".enc"
ENCRYPTION_FORMAT = f"aes-256-gcm-chunked/{FORMAT_VERSION}"


def composite_sha256(path: Path, *, part_size: int) -> str:
    """S3's checksum of a multipart object: SHA-256 of the parts' digests, then "-<parts>"."""
    digests = []
    with path.open("rb") as handle:
        while chunk := handle.read(part_size):
            digests.append(hashlib.sha256(chunk).digest())
    combined = base64.b64encode(hashlib.sha256(b"".join(digests)).digest()).decode()
    return f"{combined}-{len(digests)}"


def _writer() -> str:
    """``<host>.<pid>`` in a temporary file's name, as the backup store names its own: recovery
    deletes only the leftovers of a writer on this machine that is dead."""
    return f"{writer_host()}.{os.getpid()}"


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class _Prefixed:
    """A stream with bytes already read from it put back in front (to sniff the header)."""

    def __init__(self, prefix: bytes, rest: Readable) -> None:
        self.prefix, self.rest = prefix, rest

    def read(self, size: int) -> bytes:
        if self.prefix:
            data, self.prefix = self.prefix[:size], self.prefix[size:]
            return data
        return self.rest.read(size)


def _context(manifest: Manifest) -> bytes:
    """What a sealed copy is bound to: its backup's id (so it cannot stand in for another)."""
    return f"rotaguard backup {manifest.id}".encode()


class OffsiteStore:
    def __init__(self, settings: Settings) -> None:
        if not settings.s3_bucket:
            raise ValueError("ROTAGUARD_S3_BUCKET is not set")
        self.bucket = settings.s3_bucket
        self.prefix = settings.s3_prefix
        # The key bytes live here only; messages name the key by its fingerprint.
        self.encryption_key = settings.backup_key
        credentials = {}
        if settings.s3_access_key_id and settings.s3_secret_access_key:
            credentials = {
                "aws_access_key_id": settings.s3_access_key_id,
                "aws_secret_access_key": settings.s3_secret_access_key.get_secret_value(),
            }
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region or "us-east-1",
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60),
            **credentials,
        )

    @property
    def encrypting(self) -> bool:
        return self.encryption_key is not None

    def key(self, manifest: Manifest) -> str:
        """Where this backup's copy goes: an encrypted copy is named as one."""
        return f"{self.prefix}{manifest.file}" + (ENCRYPTED_SUFFIX if self.encrypting else "")

    def reachable(self) -> str | None:
        """None when the bucket answers; else why not."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            return str(exc)
        return None

    def _upload(self, path: Path, key: str, metadata: dict[str, str]) -> None:
        size = path.stat().st_size
        extra = {"ChecksumAlgorithm": "SHA256", "ServerSideEncryption": "AES256", "Metadata": metadata}
        if size < MULTIPART_THRESHOLD:
            with path.open("rb") as body:
                # botocore computes the SHA-256 of the bytes it sends; the server stores it.
                self.client.put_object(Bucket=self.bucket, Key=key, Body=body, **extra)
            return
        self.client.upload_file(
            str(path),
            self.bucket,
            key,
            ExtraArgs=extra,
            Config=TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=PART_SIZE),
        )

    def _confirm(self, key: str, path: Path, sha256_hex: str) -> None:
        """The stored checksum must be the SHA-256 of what was sent (whole object) or, for a
        multipart object, the composite of the parts as uploaded."""
        head = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        stored = head.get("ChecksumSHA256")
        whole = base64.b64encode(bytes.fromhex(sha256_hex)).decode()
        if stored == whole:
            return
        composite = composite_sha256(path, part_size=PART_SIZE)
        # AWS appends "-<parts>" to a multipart checksum; some S3-compatible servers do not.
        if stored not in (composite, composite.rsplit("-", 1)[0]):
            raise ValueError(f"S3 holds checksum {stored!r} for {key}, expected {whole!r} or {composite!r}")

    @contextmanager
    def _outgoing(self, manifest: Manifest, path: Path) -> Iterator[tuple[Path, str, dict[str, str]]]:
        """What leaves the machine, its SHA-256 and the object's metadata: the backup itself, or a
        sealed copy beside it (hidden from listings, removed afterwards)."""
        if self.encryption_key is None:  # not self.encrypting
            yield path, manifest.sha256, {}
            return
        sealed = path.with_name(f".{path.name}{ENCRYPTED_SUFFIX}.{_writer()}.partial")
        try:
            create_private_file(sealed)
            plain_sha256, sealed_sha256 = encrypt_file(
                path, sealed, self.encryption_key, chunk_size=CHUNK_SIZE, context=_context(manifest)
            )
            if plain_sha256 != manifest.sha256:
                # Sealed bytes hide corruption from every later check but the final one: refuse now.
                raise ValueError(f"{path.name} no longer matches its manifest's SHA-256: not copied")
            yield (
                sealed,
                sealed_sha256,
                {
                    "rotaguard-encryption": ENCRYPTION_FORMAT,
                    "rotaguard-key-id": key_id(self.encryption_key),
                    "rotaguard-plaintext-sha256": manifest.sha256,
                },
            )
        finally:
            sealed.unlink(missing_ok=True)

    def copy(self, manifest: Manifest, directory: Path) -> tuple[Manifest, str | None]:
        """Upload the backup (sealed when a key is set) and its manifest; on failure after bounded
        retries, mark it pending."""
        path = manifest.path_in(directory)
        key = self.key(manifest)
        error = None
        try:
            with self._outgoing(manifest, path) as (outgoing, sha256_hex, metadata):
                for attempt in range(ATTEMPTS):
                    try:
                        self._upload(outgoing, key, metadata)
                        self._confirm(key, outgoing, sha256_hex)
                        copied = manifest.model_copy(update={"offsite": Offsite.COPIED, "offsite_key": key})
                        side = manifest_path(path)
                        self.client.put_object(
                            Bucket=self.bucket,
                            Key=f"{key}.manifest.json",
                            Body=side.read_bytes(),
                            ServerSideEncryption="AES256",
                        )
                        return copied, None
                    except (BotoCoreError, ClientError, ValueError, OSError) as exc:
                        error = str(exc)
                        if attempt + 1 < ATTEMPTS:
                            time.sleep(BACKOFF_SECONDS[attempt])
        except (ValueError, OSError) as exc:  # sealing failed: nothing was sent
            error = f"encrypting {path.name} for the off-site copy failed: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}"
        return manifest.model_copy(update={"offsite": Offsite.PENDING}), error

    # ------------------------------------------------------------------ bringing a copy back

    def _object_key(self, manifest: Manifest) -> str:
        """The manifest's recorded key; for a manifest from before the copy was recorded, whichever
        of the plain and the encrypted name exists."""
        if manifest.offsite_key:
            return manifest.offsite_key
        plain = f"{self.prefix}{manifest.file}"
        for candidate in (plain + ENCRYPTED_SUFFIX, plain):
            try:
                self.client.head_object(Bucket=self.bucket, Key=candidate)
                return candidate
            except ClientError:
                continue
            except BotoCoreError as exc:
                raise BackupError(f"looking for the off-site copy of {manifest.id} failed: {_one_line(exc)}") from None
        raise BackupError(f"no off-site copy of {manifest.id} in bucket {self.bucket}")

    def remote_manifest(self, backup_id: str) -> Manifest:
        """The manifest uploaded beside a copy (for a machine that lost its backup directory)."""
        if not BACKUP_ID.fullmatch(backup_id):
            raise BackupError(f"{backup_id!r} is not a backup id (rotaguard_...)")
        plain = f"{self.prefix}{backup_id}.dump"
        for key in (plain + ENCRYPTED_SUFFIX, plain):
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=f"{key}.manifest.json")["Body"].read()
            except ClientError:
                continue
            except BotoCoreError as exc:
                raise BackupError(f"reading the manifest of {backup_id} from S3 failed: {_one_line(exc)}") from None
            try:
                manifest = Manifest.model_validate_json(body)
            except ValueError:
                raise BackupError(f"the off-site manifest of {backup_id} is not a RotaGuard manifest") from None
            return manifest.model_copy(update={"offsite_key": key})
        raise BackupError(f"no off-site manifest of {backup_id} in bucket {self.bucket}")

    def fetch(self, manifest: Manifest, directory: Path, *, allow_plaintext: bool | None = None) -> Manifest:
        """Download the copy of ``manifest`` into ``directory``, decrypting it, and put it in place only
        once its SHA-256 is the manifest's. The manifest is written beside it as unverified, so
        `rotaguard backup verify` (and any restore) runs the four checks before trusting it.

        With a key set, a copy that is not encrypted is refused unless ``allow_plaintext`` (copies
        made before encryption was turned on): anyone who can write to the bucket could have put it
        there. Every failure raises :class:`BackupError` with one line and leaves nothing behind."""
        if manifest.file != f"{manifest.id}.dump" or Path(manifest.file).name != manifest.file:
            # The manifest may come from the bucket: its file name must not point elsewhere.
            raise BackupError(f"the manifest of {manifest.id!r} names file {manifest.file!r}, not {manifest.id}.dump")
        allow_plaintext = (not self.encrypting) if allow_plaintext is None else allow_plaintext
        key = self._object_key(manifest)
        directory.mkdir(mode=PRIVATE_DIRECTORY_MODE, parents=True, exist_ok=True)
        target = manifest.path_in(directory)
        partial = directory / f".{manifest.file}.fetch.{_writer()}.partial"
        try:
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
                create_private_file(partial)
                with partial.open("wb") as out:
                    self._write_plain(body, out, key, allow_plaintext, _context(manifest))
                    out.flush()
                    os.fsync(out.fileno())
            except (BotoCoreError, ClientError) as exc:
                raise BackupError(f"downloading {key} from S3 failed: {_one_line(exc)}") from None
            except OSError as exc:
                raise BackupError(f"writing {partial.name} failed: {exc.strerror or exc}") from None
            actual = file_sha256(partial)
            if actual != manifest.sha256:
                raise BackupError(
                    f"the off-site copy {key} is not backup {manifest.id}: SHA-256 {actual[:12]}... vs the manifest's {manifest.sha256[:12]}..."
                )
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        fetched = manifest.model_copy(
            update={
                "status": BackupStatus.UNVERIFIED,
                "verified_at": None,
                "failure": None,
                "offsite": Offsite.COPIED,
                "offsite_key": key,
            }
        )
        write_manifest(fetched, directory)
        return fetched

    def _write_plain(self, body, out, key: str, allow_plaintext: bool, context: bytes) -> None:
        head = read_exactly(body, HEADER_SIZE)  # a network stream may hand out fewer bytes per read
        stream = _Prefixed(head, body)
        if is_encrypted(head):
            if self.encryption_key is None:  # not self.encrypting
                raise EncryptionError(f"{key} is encrypted, but ROTAGUARD_BACKUP_ENCRYPTION_KEY is not set")
            decrypt_stream(stream, out, self.encryption_key, context=context, what=key)
            return
        if not allow_plaintext:
            raise EncryptionError(
                f"{key} is not encrypted, but ROTAGUARD_BACKUP_ENCRYPTION_KEY is set: refusing an unsealed copy"
            )
        while block := stream.read(CHUNK_SIZE):
            out.write(block)


def fetch_offsite(
    settings: Settings, backup_id: str, directory: Path, *, allow_plaintext: bool | None = None
) -> Manifest:
    """Bring backup ``backup_id`` back from S3 into ``directory`` (its manifest from there when the
    directory has none), decrypted and checked against the manifest."""
    if not settings.s3_bucket:
        raise BackupError("ROTAGUARD_S3_BUCKET is not set: there is nothing to fetch from")
    if not BACKUP_ID.fullmatch(backup_id):
        raise BackupError(f"{backup_id!r} is not a backup id (rotaguard_...)")
    offsite = OffsiteStore(settings)
    local = manifest_path(directory / f"{backup_id}.dump")
    manifest = read_manifest(local) if local.is_file() else offsite.remote_manifest(backup_id)
    return offsite.fetch(manifest, directory, allow_plaintext=allow_plaintext)


def copy_offsite(settings: Settings, store, manifest: Manifest) -> tuple[Manifest, str | None]:
    """Copy to S3 when configured and record the outcome in the manifest; an outage leaves the
    local backup valid and its copy pending (returned with the error)."""
    if not settings.s3_bucket:
        return manifest, None
    copied, error = OffsiteStore(settings).copy(manifest, store.directory)
    return store.update(copied), error
