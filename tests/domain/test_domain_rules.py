import pytest
from pydantic import ValidationError

from rotaguard.domain import RuleParams


def test_defaults_are_the_acgme_numbers():
    rules = RuleParams()
    assert rules.max_hours_per_window == 320
    assert rules.min_free_days_per_window == 4
    assert rules.max_duty_period_hours == 28
    assert rules.min_rest_after_long_duty_hours == 14
    assert rules.max_calls_per_window == 9
    assert rules.min_rest_between_duties_hours == 8
    assert rules.warning_hours_per_window == 300


@pytest.mark.parametrize(
    "pgy1, seniors, needed",
    [(0, 0, 0), (1, 0, 1), (2, 0, 1), (3, 0, 2), (0, 4, 1), (0, 5, 2), (2, 2, 2), (1, 2, 1), (1, 3, 2), (4, 0, 2)],
)
def test_supervision_ratio_is_one_ceiling(pgy1, seniors, needed):
    assert RuleParams().faculty_needed(pgy1_residents=pgy1, senior_residents=seniors) == needed


def test_review_committee_cap_is_88_hours():
    assert RuleParams(max_hours_per_week=88).max_hours_per_window == pytest.approx(352)
    with pytest.raises(ValidationError):
        RuleParams(max_hours_per_week=88.5)


def test_warning_follows_a_tightened_limit():
    assert RuleParams().warning_hours_per_week == 75
    assert RuleParams(max_hours_per_week=70).warning_hours_per_week == 65
    assert RuleParams(warning_margin_hours_per_week=0).warning_hours_per_window == 320


def test_free_days_cannot_exceed_window():
    with pytest.raises(ValidationError, match="min_free_days_per_window"):
        RuleParams(averaging_window_days=7, min_free_days_per_window=8)


def test_unknown_rule_rejected():
    with pytest.raises(ValidationError):
        RuleParams(max_hours=70)
