"""The block grid: one row per person, one column per day, the way a coordinator reads a block.

Each row starts with the person's planned rotation (v2) or, for a v1 program without a plan,
the services they work; each day is one short code of what they work that day:

``D`` day shift, ``N`` night, ``X`` 24-hour call, ``C`` in-house overnight call, ``H`` at-home
call, ``a``/``p`` morning/afternoon half day, ``c`` clinic, ``e`` didactics (education),
``v`` absent, ``.`` free. Two duties on one day: clinic or didactics with anything read ``c`` or
``e``, AM and PM half days ``D``, anything else ``*``. One character per day keeps a 28-day block
on one line; hours per week are over the days present.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from rotaguard.domain import Program, Schedule, ShiftKind

KIND_CODES = {
    ShiftKind.DAY: "D",
    ShiftKind.NIGHT: "N",
    ShiftKind.CALL_24: "X",
    ShiftKind.CALL: "C",
    ShiftKind.HOME_CALL: "H",
    ShiftKind.CLINIC: "c",
    ShiftKind.DIDACTICS: "e",
}
LEGEND = (
    "D day  N night  X 24-hour call  C overnight call  H home call  a/p half day  "
    "c clinic  e didactics  * two duties  v away  . free; h/week over the days present"
)


def _half_day_code(program: Program, shift_id: str) -> str:
    shift = program.shift(shift_id)
    return "a" if shift.start.hour < 12 else "p"


def _day_code(program: Program, shifts: list[str]) -> str:
    if not shifts:
        return "."
    if len(shifts) > 1:
        kinds = {program.shift(s).kind for s in shifts}
        # The protected half day is what the day is known by: a morning on the ward, clinic after.
        if ShiftKind.CLINIC in kinds:
            return "c"
        if ShiftKind.DIDACTICS in kinds:
            return "e"
        # Two half days (AM and PM sessions) read as a day of that work.
        if kinds == {ShiftKind.HALF_DAY}:
            return "D"
        return "*"
    shift = program.shift(shifts[0])
    if shift.kind is ShiftKind.HALF_DAY:
        return _half_day_code(program, shift.id)
    return KIND_CODES.get(shift.kind, "?")


def row_label(program: Program, schedule: Schedule, person_id: str, start: date, end: date) -> str:
    """The person's rotation over the range: the plan's rotations, else the services they work most."""
    planned = [e.rotation_id for e in program.plan_by_person.get(person_id, ()) if e.start <= end and e.end >= start]
    if planned:
        return "/".join(dict.fromkeys(planned))
    worked = Counter(a.rotation_id for a in schedule.assignments if a.person_id == person_id and start <= a.date <= end)
    return "/".join(service for service, _ in worked.most_common(2)) or "-"


def block_grid(program: Program, schedule: Schedule, start: date, end: date, *, people: tuple[str, ...] = ()) -> str:
    """People x days as plain text, one character per day, weeks separated by a space."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    worked: dict[tuple[str, date], list[str]] = {}
    for a in sorted(schedule.assignments, key=lambda a: program.interval_start(a.date, a.slot)):
        if start <= a.date <= end:
            worked.setdefault((a.person_id, a.date), []).append(a.slot)
    chosen = [p for p in program.people if (not people or p.id in people)]
    labels = {p.id: row_label(program, schedule, p.id, start, end) for p in chosen}
    id_width = max([len(p.id) for p in chosen] + [6])
    label_width = max([len(label) for label in labels.values()] + [8])

    def weeks(cells: list[str]) -> str:
        return " ".join("".join(cells[i : i + 7]) for i in range(0, len(cells), 7))

    header_days = weeks([d.strftime("%a")[0] for d in days])
    lines = [
        f"Block {start} .. {end}",
        f"{'person':<{id_width}}  {'rotation':<{label_width}}  {header_days}  h/week",
    ]
    for person in chosen:
        cells = []
        hours = 0.0
        for day in days:
            shifts = worked.get((person.id, day), [])
            if not shifts and program.absent(person.id, day):
                cells.append("v")
                continue
            cells.append(_day_code(program, shifts))
        hours = sum(
            program.interval(a).hours
            for a in schedule.assignments
            if a.person_id == person.id and start <= a.date <= end
        )
        # Over the days present, as the 80-hour rule counts them: a vacation week is not a light week.
        present = sum(1 for day in days if not program.absent(person.id, day))
        per_week = hours / (present / 7) if present else 0.0
        lines.append(f"{person.id:<{id_width}}  {labels[person.id]:<{label_width}}  {weeks(cells)}  {per_week:6.1f}")
    lines.append(LEGEND)
    return "\n".join(lines)


def block_grid_markdown(program: Program, schedule: Schedule, start: date, end: date) -> str:
    """The same grid in a fenced block, for the run's markdown artifact."""
    return f"## Schedule {start} .. {end}\n\n```\n{block_grid(program, schedule, start, end)}\n```"


__all__ = ["LEGEND", "block_grid", "block_grid_markdown", "row_label"]
