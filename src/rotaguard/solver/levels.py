"""The priorities a coordinator recognises, solved one after the other (lexicographically).

Each level owns some of the model's named penalties. ``search.solve`` minimises the first level
that has any, fixes it at the value found (``<=``), then minimises the next with the whole
previous solution as a complete hint, and so on: no weight has to outweigh every lower level,
and each level's value comes with its own bound. When a level is proved (value equals bound),
no schedule is better on it without being worse on a level above.
"""

from __future__ import annotations

from dataclasses import dataclass

from rotaguard.solver.problem import LevelResult


@dataclass(frozen=True)
class Level:
    id: str
    title: str
    # Penalty names (``ScheduleModel.penalize``) this level minimises.
    penalties: tuple[str, ...]


LEVELS = (
    Level("staffing", "staffing: people short of each shift's minimum", ("unmet_staffing",)),
    Level(
        "plan",
        "the rotation plan's expected work, weekly clinic and didactics, 8 h between duty periods",
        ("fill", "clinic", "didactics", "short_rest"),
    ),
    Level("requests", "residents' requests", ("request",)),
    Level("stability", "changes to the current schedule", ("change",)),
    Level(
        "fairness",
        "fairness (call and weekend spread, each resident's share of calls) and continuity",
        ("call_fairness", "weekend_fairness", "call_share", "continuity"),
    ),
)
LEVEL_OF_PENALTY = {name: level.id for level in LEVELS for name in level.penalties}


def time_for_level(remaining: float, levels_left: int, *, first: bool = False) -> float:
    """Seconds a level may search: the first (staffing) three quarters of what remains, the
    others half, the last all of it. A level proved early hands the rest down. (On the 150-person
    benchmark staffing was still improving at half the time: 254 people short after 24 s, 74
    after 40 s; every smaller case proves it in seconds.)"""
    if levels_left <= 1:
        return remaining
    return remaining * (0.75 if first else 0.5)


def describe_level(level: LevelResult) -> str:
    """One line a coordinator reads: the priority, its value and whether it is proved."""
    if level.status == "UNKNOWN":
        return f"{level.id}: {level.value:g} (not searched: no time left; {level.title})"
    proof = "proved optimal" if level.proved else f"bound {level.bound:g}, gap {100 * level.gap:.1f}%"
    return f"{level.id}: {level.value:g} ({proof}; {level.title}) in {level.seconds:.1f} s"
