import pytest

from rotaguard.cli.main import main


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(database_url, tmp_path, monkeypatch, capsys):
    """Run ``rotaguard`` in-process against the test's database; returns (code, stdout, stderr)."""
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("ROTAGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ROTAGUARD_ACTOR", "test-coordinator")

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        monkeypatch.setattr("sys.argv", ["rotaguard", *args])
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
