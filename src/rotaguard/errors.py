"""Errors a user can act on. The CLI prints them as one line and exits non-zero."""

from __future__ import annotations

from dataclasses import dataclass


class RotaGuardError(Exception):
    """A failure with a reason a person can act on (exit code 1)."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, and where: a JSON path like ``$.people[3].pgy``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class InputError(RotaGuardError):
    """Bad input: every problem found, each with its location (exit code 2). Nothing was written."""

    exit_code = 2

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        if len(problems) == 1:
            only = problems[0]
            summary = str(only) if only.path == source else f"{source}: {only}"
        else:
            summary = f"{source}: {len(problems)} problems, nothing was written"
        super().__init__(summary)

    @property
    def detail_lines(self) -> list[str]:
        """Lines that follow the summary: every problem, when there is more than one."""
        return [str(problem) for problem in self.problems] if len(self.problems) > 1 else []
