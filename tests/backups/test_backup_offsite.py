"""Off-site copies against a real S3 API: moto's standalone server on loopback."""

import socket

import boto3
import pytest

from rotaguard.backups import BackupStatus, Offsite
from rotaguard.backups import offsite as offsite_module
from rotaguard.backups.offsite import OffsiteStore
from rotaguard.settings import Settings

BUCKET = "rotaguard-offsite-test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _settings(endpoint: str) -> Settings:
    return Settings(
        s3_bucket=BUCKET,
        s3_endpoint_url=endpoint,
        s3_region="us-east-1",
        s3_access_key_id="synthetic-test-key",
        s3_secret_access_key="synthetic-test-secret",
        s3_prefix="rotaguard/",
    )


@pytest.fixture
def bucket(s3_endpoint):
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    try:
        client.create_bucket(Bucket=BUCKET)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    return client


def test_copy_is_confirmed_by_reading_the_checksum_back(store, s3_endpoint, bucket):
    manifest = store.create()
    copied, error = OffsiteStore(_settings(s3_endpoint)).copy(manifest, store.directory)
    assert error is None and copied.offsite is Offsite.COPIED and copied.offsite_key == f"rotaguard/{manifest.file}"
    head = bucket.head_object(Bucket=BUCKET, Key=copied.offsite_key, ChecksumMode="ENABLED")
    assert head["ContentLength"] == manifest.size_bytes
    assert head["ServerSideEncryption"] == "AES256"
    body = bucket.get_object(Bucket=BUCKET, Key=copied.offsite_key)["Body"].read()
    assert body == manifest.path_in(store.directory).read_bytes()
    assert bucket.head_object(Bucket=BUCKET, Key=f"{copied.offsite_key}.manifest.json")


def test_multipart_upload_is_confirmed_too(store, s3_endpoint, bucket, monkeypatch):
    monkeypatch.setattr(offsite_module, "MULTIPART_THRESHOLD", 5 * 1024 * 1024)
    monkeypatch.setattr(offsite_module, "PART_SIZE", 5 * 1024 * 1024)
    manifest = store.create()
    big = manifest.path_in(store.directory)
    # Pad a copy to 11 MiB so it goes up in three parts.
    padded = store.directory / "rotaguard_padded.dump"
    padded.write_bytes(big.read_bytes() + b"\0" * (11 * 1024 * 1024))
    from rotaguard.backups.manifest import file_sha256

    fake = manifest.model_copy(
        update={
            "id": "rotaguard_padded",
            "file": padded.name,
            "sha256": file_sha256(padded),
            "size_bytes": padded.stat().st_size,
        }
    )
    from rotaguard.backups.manifest import write_manifest

    write_manifest(fake, store.directory)
    copied, error = OffsiteStore(_settings(s3_endpoint)).copy(fake, store.directory)
    assert error is None and copied.offsite is Offsite.COPIED
    head = bucket.head_object(Bucket=BUCKET, Key=copied.offsite_key, ChecksumMode="ENABLED")
    assert head["ContentLength"] == fake.size_bytes and head["ChecksumSHA256"]


def test_unreachable_s3_leaves_the_local_backup_good_and_the_copy_pending(store, monkeypatch):
    monkeypatch.setattr(offsite_module, "BACKOFF_SECONDS", (0.01, 0.01, 0.01))
    manifest = store.create()
    closed = f"http://127.0.0.1:{_free_port()}"
    pending, error = OffsiteStore(_settings(closed)).copy(manifest, store.directory)
    assert pending.offsite is Offsite.PENDING and error
    store.update(pending)
    assert store.get(manifest.id).status is BackupStatus.VERIFIED
    assert store.verify(manifest.id)[0].status is BackupStatus.VERIFIED


def test_cli_copies_off_site_and_sync_retries_pending(cli, tmp_path, monkeypatch, s3_endpoint, bucket):
    from factories import dumps, program_document

    monkeypatch.setattr(offsite_module, "BACKOFF_SECONDS", (0.01, 0.01, 0.01))
    path = tmp_path / "p.json"
    path.write_text(dumps(program_document()))
    cli("program", "import", str(path))
    for name, value in {
        "ROTAGUARD_S3_BUCKET": BUCKET,
        "ROTAGUARD_S3_ENDPOINT_URL": f"http://127.0.0.1:{_free_port()}",
        "ROTAGUARD_S3_REGION": "us-east-1",
        "ROTAGUARD_S3_ACCESS_KEY_ID": "synthetic-test-key",
        "ROTAGUARD_S3_SECRET_ACCESS_KEY": "synthetic-test-secret",
    }.items():
        monkeypatch.setenv(name, value)
    down = cli("backup", "create", "--json")
    assert down.code == 0 and "off-site copy pending" in down.err
    import json

    assert json.loads(down.out)["offsite"] == "pending"
    monkeypatch.setenv("ROTAGUARD_S3_ENDPOINT_URL", s3_endpoint)
    synced = cli("backup", "offsite", "sync", "--json")
    assert synced.code == 0, synced.err
    assert [c["offsite"] for c in json.loads(synced.out)["copies"]] == ["copied"]
    assert json.loads(cli("backup", "list", "--json").out)[0]["offsite"] == "copied"


def test_bytes_that_differ_from_the_backup_on_the_server_leave_the_copy_pending(
    store, s3_endpoint, bucket, monkeypatch
):
    """moto keeps whatever arrives: the checksum read back must be the local file's, or it is not a copy."""
    monkeypatch.setattr(offsite_module, "BACKOFF_SECONDS", (0.01, 0.01, 0.01))
    manifest = store.create()
    real_upload = OffsiteStore._upload

    def damaged_in_transit(self, path, key, metadata):
        altered = path.with_name(f".{path.name}.altered")
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        altered.write_bytes(bytes(data))
        try:
            real_upload(self, altered, key, metadata)
        finally:
            altered.unlink()

    monkeypatch.setattr(OffsiteStore, "_upload", damaged_in_transit)
    pending, error = OffsiteStore(_settings(s3_endpoint)).copy(manifest, store.directory)
    assert pending.offsite is Offsite.PENDING and "S3 holds checksum" in error and manifest.file in error
    assert not list(store.directory.glob(".*"))


def test_a_plain_copy_fetched_back_is_the_backup(store, s3_endpoint, bucket, tmp_path):
    from rotaguard.backups.manifest import file_sha256

    manifest = store.create()
    copied, _ = OffsiteStore(_settings(s3_endpoint)).copy(manifest, store.directory)
    fetched = OffsiteStore(_settings(s3_endpoint)).fetch(copied, tmp_path / "fetched")
    assert file_sha256(fetched.path_in(tmp_path / "fetched")) == manifest.sha256
    assert fetched.status is BackupStatus.UNVERIFIED  # a fetched copy is verified again before any use
    # As private as the backup it replaces: the owner's alone, in a directory only they can enter.
    assert (
        fetched.path_in(tmp_path / "fetched").stat().st_mode & 0o777,
        (tmp_path / "fetched").stat().st_mode & 0o777,
    ) == (0o600, 0o700)
