"""The independent judge of every schedule (filled by the compliance issue).

``(Schedule, Program, RuleParams) -> [Violation]``: one pure function per ACGME or
institutional rule in a registry with a stable id, a tier and the requirement it cites,
plus coverage and N-1/N-2 metrics. Never imports the solver, ``backups`` or Prefect.
"""
