"""Off-site copies in S3: upload with a SHA-256 checksum and server-side encryption, then read the
checksum back and compare it with the manifest (a server may accept a wrong digest)."""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from rotaguard.backups.manifest import Manifest, Offsite, manifest_path
from rotaguard.settings import Settings

MULTIPART_THRESHOLD = 64 * 1024 * 1024
PART_SIZE = 16 * 1024 * 1024
ATTEMPTS = 3
BACKOFF_SECONDS = (0.5, 1.0, 2.0)


def composite_sha256(path: Path, *, part_size: int) -> str:
    """S3's checksum of a multipart object: SHA-256 of the parts' digests, then "-<parts>"."""
    digests = []
    with path.open("rb") as handle:
        while chunk := handle.read(part_size):
            digests.append(hashlib.sha256(chunk).digest())
    combined = base64.b64encode(hashlib.sha256(b"".join(digests)).digest()).decode()
    return f"{combined}-{len(digests)}"


class OffsiteStore:
    def __init__(self, settings: Settings) -> None:
        if not settings.s3_bucket:
            raise ValueError("ROTAGUARD_S3_BUCKET is not set")
        self.bucket = settings.s3_bucket
        self.prefix = settings.s3_prefix
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

    def key(self, manifest: Manifest) -> str:
        return f"{self.prefix}{manifest.file}"

    def reachable(self) -> str | None:
        """None when the bucket answers; else why not."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            return str(exc)
        return None

    def _upload(self, path: Path, key: str) -> None:
        size = path.stat().st_size
        if size < MULTIPART_THRESHOLD:
            with path.open("rb") as body:
                # botocore computes the SHA-256 of the bytes it sends; the server stores it.
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=body, ChecksumAlgorithm="SHA256", ServerSideEncryption="AES256"
                )
            return
        self.client.upload_file(
            str(path),
            self.bucket,
            key,
            ExtraArgs={"ChecksumAlgorithm": "SHA256", "ServerSideEncryption": "AES256"},
            Config=TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=PART_SIZE),
        )

    def _confirm(self, key: str, path: Path, sha256_hex: str) -> None:
        """The stored checksum must be the manifest's SHA-256 (whole object) or, for a multipart
        object, the composite of the parts as uploaded."""
        head = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        stored = head.get("ChecksumSHA256")
        whole = base64.b64encode(bytes.fromhex(sha256_hex)).decode()
        if stored == whole:
            return
        composite = composite_sha256(path, part_size=PART_SIZE)
        # AWS appends "-<parts>" to a multipart checksum; some S3-compatible servers do not.
        if stored not in (composite, composite.rsplit("-", 1)[0]):
            raise ValueError(f"S3 holds checksum {stored!r} for {key}, expected {whole!r} or {composite!r}")

    def copy(self, manifest: Manifest, directory: Path) -> tuple[Manifest, str | None]:
        """Upload the backup and its manifest; on failure after bounded retries, mark it pending."""
        path = manifest.path_in(directory)
        key = self.key(manifest)
        error = None
        for attempt in range(ATTEMPTS):
            try:
                self._upload(path, key)
                self._confirm(key, path, manifest.sha256)
                copied = manifest.model_copy(update={"offsite": Offsite.COPIED, "offsite_key": key})
                side = manifest_path(path)
                self.client.put_object(Bucket=self.bucket, Key=f"{key}.manifest.json", Body=side.read_bytes(), ServerSideEncryption="AES256")
                return copied, None
            except (BotoCoreError, ClientError, ValueError, OSError) as exc:
                error = str(exc)
                if attempt + 1 < ATTEMPTS:
                    time.sleep(BACKOFF_SECONDS[attempt])
        return manifest.model_copy(update={"offsite": Offsite.PENDING}), error


def copy_offsite(settings: Settings, store, manifest: Manifest) -> tuple[Manifest, str | None]:
    """Copy to S3 when configured and record the outcome in the manifest; an outage leaves the
    local backup valid and its copy pending (returned with the error)."""
    if not settings.s3_bucket:
        return manifest, None
    copied, error = OffsiteStore(settings).copy(manifest, store.directory)
    return store.update(copied), error
