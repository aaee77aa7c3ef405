"""The independent judge of every schedule.

``validate(schedule, program, start=, end=) -> Report``: one pure function per ACGME or
institutional rule in a registry (``RULES``) with a stable id, a tier and the requirement
it cites, plus coverage, fill rate, fairness and N-1/N-2 metrics. Never imports the
solver, ``backups`` or Prefect.
"""

from rotaguard.compliance.engine import check_rule, validate
from rotaguard.compliance.model import CoverageGap, Metrics, Report, ResilienceGap, Severity, Tier, Violation
from rotaguard.compliance.rules import RULES, Rule

__all__ = [
    "RULES",
    "CoverageGap",
    "Metrics",
    "Report",
    "ResilienceGap",
    "Rule",
    "Severity",
    "Tier",
    "Violation",
    "check_rule",
    "validate",
]
