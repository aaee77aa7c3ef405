"""RuleParams: every ACGME and institutional number, read by both solver and compliance."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from rotaguard.domain.base import Frozen


class RuleParams(Frozen):
    """Duty-hour and staffing rule parameters (ACGME CPR 2023 VI.F / 2025 6.20-6.28).

    The defaults are the ACGME Core requirements; a program may tighten them, and may
    raise the weekly maximum to at most 88 h only with a Review Committee exception
    (VI.F.4.c / 6.24).
    """

    # VI.F.1 / 6.20: 80 h per week averaged over four weeks; checked on every rolling window.
    max_hours_per_week: float = Field(default=80, gt=0, le=88)
    averaging_window_days: int = Field(default=28, ge=7, le=56)
    # Tier 2: approaching the limit (within this margin, 75 h by default) needs a coordinator.
    warning_margin_hours_per_week: float = Field(default=5, ge=0, le=40)
    # Faculty are not under ACGME duty limits; the institution caps them separately.
    faculty_max_hours_per_week: float = Field(default=80, gt=0, le=168)

    # VI.F.2.c / 6.21.b: one day in seven free, averaged over four weeks.
    min_free_days_per_window: int = Field(default=4, ge=0, le=28)
    strict_one_in_seven: bool = False
    max_consecutive_duty_days: int = Field(default=6, ge=1, le=27)

    # VI.F.3.a / 6.22 and VI.F.3.a.(1) / 6.22.a: 24 h continuous + up to 4 h transition.
    max_continuous_duty_hours: float = Field(default=24, gt=0, le=28)
    max_transition_hours: float = Field(default=4, ge=0, le=4)
    # VI.F.2.b / 6.21.a: 14 h free after 24 h of in-house call.
    long_duty_threshold_hours: float = Field(default=24, gt=0, le=28)
    min_rest_after_long_duty_hours: float = Field(default=14, ge=0, le=48)
    # VI.F.2.a / 6.21 (Detail, Tier 2): 8 h off between scheduled periods.
    min_rest_between_duties_hours: float = Field(default=8, ge=0, le=24)

    # VI.F.7 / 6.27: in-house call no more often than every third night, averaged.
    call_every_nth_night: int = Field(default=3, ge=2, le=28)
    forbid_consecutive_calls: bool = True

    # Program supervision ratios (not ACGME numbers): 1 faculty : 2 PGY-1, 1 : 4 seniors.
    pgy1_per_faculty: int = Field(default=2, ge=1, le=20)
    senior_residents_per_faculty: int = Field(default=4, ge=1, le=20)

    # Tier 2 fairness bounds: spread between the most and least loaded peer.
    max_call_spread: int = Field(default=2, ge=0, le=28)
    max_weekend_spread: int = Field(default=2, ge=0, le=28)

    # The year planner (docs/planner.md). Vacation weeks a resident may take a year: the planner
    # honours vacation requests, by priority, up to this many weeks.
    vacation_weeks_per_year: int = Field(default=4, ge=0, le=12)
    # Heavy (inpatient) blocks in a row before the planner counts a penalty: "no three heavy in a row".
    max_heavy_blocks_in_a_row: int = Field(default=2, ge=1, le=13)

    @model_validator(mode="after")
    def _free_days_fit_window(self) -> RuleParams:
        if self.min_free_days_per_window > self.averaging_window_days:
            raise ValueError("min_free_days_per_window must not exceed averaging_window_days")
        return self

    @property
    def max_hours_per_window(self) -> float:
        """80 h/week over 28 days is 320 h in any 28 consecutive days."""
        return self.max_hours_per_week * self.averaging_window_days / 7

    @property
    def warning_hours_per_week(self) -> float:
        return max(0.0, self.max_hours_per_week - self.warning_margin_hours_per_week)

    @property
    def warning_hours_per_window(self) -> float:
        return self.warning_hours_per_week * self.averaging_window_days / 7

    @property
    def faculty_max_hours_per_window(self) -> float:
        return self.faculty_max_hours_per_week * self.averaging_window_days / 7

    @property
    def max_duty_period_hours(self) -> float:
        """Continuous scheduled duty plus the transition allowance (24 + 4 = 28 h)."""
        return self.max_continuous_duty_hours + self.max_transition_hours

    @property
    def max_calls_per_window(self) -> int:
        """Every third night over 28 days is floor(28 / 3) = 9 in-house calls."""
        return self.averaging_window_days // self.call_every_nth_night

    def faculty_needed(self, *, pgy1_residents: int, senior_residents: int) -> int:
        """ceil(PGY1/2 + seniors/4) with the default ratios, as one ceiling (no double rounding)."""
        numerator = pgy1_residents * self.senior_residents_per_faculty + senior_residents * self.pgy1_per_faculty
        denominator = self.pgy1_per_faculty * self.senior_residents_per_faculty
        return math.ceil(numerator / denominator) if numerator else 0
