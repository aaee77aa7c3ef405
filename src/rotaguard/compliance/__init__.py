"""The independent judge of every schedule.

``validate(schedule, program, start=, end=) -> Report``: one pure function per ACGME or
institutional rule in a registry (``RULES``) with a stable id, a tier and the requirement
it cites, plus coverage, fill rate, fairness and N-1/N-2 metrics. Never imports the
solver, ``backups`` or Prefect.

Duties are judged on the program's own shift types (v1's AM, PM and CALL included) as exact
intervals; staffing per service, shift, weekday and PGY group. With a block plan
(``program.has_plan_model``) the block-layer rules of ``plan_rules`` judge the duties against
the plan (``plan.outside_rotation``), the plan against capacities and the curriculum
(``plan.capacity``, ``curriculum.requirements``), the weekly clinic (``clinic.missed``) and the
protected didactics (``didactics.conflict``); ``fill`` gives the expected work behind
``fill_rate``. ``PLAN_RULE_IDS`` are the rules that judge the block schedule itself (capacity,
curriculum, eligibility, vacation, residents present on no rotation) and ``plan_findings(program)``
runs them over the academic year: the plan-year flow's validation gate.
"""

from rotaguard.compliance.engine import check_rule, validate
from rotaguard.compliance.model import CoverageGap, Metrics, Report, ResilienceGap, Severity, Tier, Violation
from rotaguard.compliance.plan_rules import PLAN_RULE_IDS, plan_findings
from rotaguard.compliance.rules import RULES, Rule

__all__ = [
    "PLAN_RULE_IDS",
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
    "plan_findings",
    "validate",
]
