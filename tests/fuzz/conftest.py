"""Hypothesis profiles for the fuzz tests: a few examples under plain `make test`, many under chaos.

`make test` must stay quick, so each property runs a modest number of examples there; with
ROTAGUARD_CHAOS=1 (`make chaos`) the same properties run many more. The profiles are registered
here and applied per test (``strategies.fuzz_settings``), never loaded globally: other test
directories keep their own hypothesis settings in the same session.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from strategies import CHAOS_PROFILE, QUICK_PROFILE

# Database-backed properties create their database once per test and check its digest around
# every example themselves, so sharing the function-scoped fixtures is intended.
_SHARED_FIXTURES = [
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
]

# derandomize: make test sees the same examples every run (a CI result is repeatable); make chaos explores.
settings.register_profile(
    QUICK_PROFILE,
    deadline=None,
    max_examples=25,
    derandomize=True,
    suppress_health_check=_SHARED_FIXTURES,
    print_blob=True,
)
settings.register_profile(
    CHAOS_PROFILE, deadline=None, max_examples=1000, suppress_health_check=_SHARED_FIXTURES, print_blob=True
)
