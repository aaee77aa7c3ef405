"""Thin Prefect flows, one per file, composing ``tasks`` (filled by the flow issues).

Every schedule-modifying flow takes a verified backup, pauses for approval, writes in one
transaction, validates independently of the solver and restores on failure.
"""
