import pytest


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory):
    """One real Prefect API for the whole session (it takes about 10 s to start)."""
    import os

    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        from prefect import get_client
        from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

        with get_client(sync_client=True) as client:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name="schedule-writes", limit=1))
        yield


@pytest.fixture
def flow_env(prefect_api, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("ROTAGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ROTAGUARD_BACKUP_DIR", str(tmp_path / "backups"))
    return database_url
