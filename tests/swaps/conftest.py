"""Fixtures for the swap tests: a seeded database and a clock the test moves."""

import pytest

from rotaguard.swaps import SwapService
from swapdata import Clock, seed


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def swaps(database, clock) -> SwapService:
    seed(database)
    return SwapService(database, clock=clock, lock_wait_seconds=60)
