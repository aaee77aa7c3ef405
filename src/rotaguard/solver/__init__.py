"""OR-Tools CP-SAT schedule generation (filled by the solver issue).

``ScheduleProblem -> SolveResult``: one builder per rule reading the same ``RuleParams`` as
``compliance``; never opens a database session and never imports Prefect, ``compliance``
or ``backups``.
"""
