"""A full disk during a backup fails cleanly: one line, no file under a final name, the last good backup untouched.

The disk fills up for real at the operating-system level: the backup runs in a subprocess
whose file-size limit (RLIMIT_FSIZE) is below the backup's size, so every write past it
fails with EFBIG, for RotaGuard and for pg_dump alike.
"""

import os
import resource
import signal
import subprocess
import sys

from rotaguard.backups.manifest import file_sha256


def test_disk_full_during_backup(store, database_url, tmp_path):
    good = store.create()
    good_path = good.path_in(store.directory)
    before = sorted(p.name for p in store.directory.iterdir())
    limit = good.size_bytes // 3

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {
        **os.environ,
        "ROTAGUARD_DATABASE_URL": database_url,
        "ROTAGUARD_BACKUP_DIR": str(store.directory),
        "ROTAGUARD_HOME": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "rotaguard", "backup", "create"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limited,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("rotaguard: error: ")
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in store.directory.iterdir()) == before
    assert file_sha256(good_path) == good.sha256
    assert store.verify(good.id)[0].status == "verified"
