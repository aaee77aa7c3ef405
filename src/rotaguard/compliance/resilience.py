"""N-1 and N-2: can the schedule lose one person (or a critical pair) on a day and still be staffed?

A loss leaves a hole only where the person's slot had no one to spare (their group, the
service's residents of their PGY group or its faculty, staffed at or below its minimum). A
hole is covered by someone of that group, eligible (role, PGY, credentials; with a block plan,
a resident whose planned rotation that day has the duty), present, not
already working at that time, whose own schedule plus the extra duty still passes every
Tier 1 rule. Each hole needs its own substitute.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from rotaguard.compliance.model import ResilienceGap, Tier
from rotaguard.compliance.plan_rules import outside_reason
from rotaguard.compliance.rules import Scope, check_person, person_rules
from rotaguard.compliance.view import Group, ScheduleView, Timeline
from rotaguard.domain import Assignment, RuleParams

Hole = tuple[int, int, int, int]  # rotation, day, slot, group (an index into the cell's groups)


class Resilience:
    def __init__(self, view: ScheduleView, params: RuleParams) -> None:
        self.view = view
        self.params = params
        self.tier1 = person_rules(tier=Tier.REGULATORY)
        self.absent = {
            (view.person_index[a.person_id], view.grid.index(a.start) + offset)
            for a in view.program.absences
            if a.person_id in view.person_index
            for offset in range((a.end - a.start).days + 1)
        }
        self.working: dict[tuple[int, int], list[int]] = defaultdict(list)  # (person, day) -> positions in timeline
        for timeline in view.timelines:
            for i in np.flatnonzero(view.in_range[timeline.rows]):
                self.working[(timeline.index, int(timeline.days[i]))].append(int(i))
        self._substitutes: dict[Hole, list[int]] = {}

    def holes(self, person: int, day: int) -> list[Hole]:
        """The slots that fall below their minimum when ``person`` is lost on ``day``."""
        timeline = self.view.timelines[person]
        found = []
        level = int(self.view.tables.level[person])
        for i in self.working.get((person, day), []):
            rotation_index, slot = int(timeline.rotations[i]), int(timeline.slots[i])
            for index, group in enumerate(self.view.cell(rotation_index, day, slot)):
                if group.takes(level):
                    if int(self.view.group_count(rotation_index, day, slot, group)) <= group.minimum:
                        found.append((rotation_index, day, slot, index))
                    break
        return found

    def group(self, hole: Hole) -> Group:
        rotation_index, day, slot, index = hole
        return self.view.cell(rotation_index, day, slot)[index]

    def substitutes(self, hole: Hole) -> list[int]:
        """Everyone who could fill the hole without breaking a Tier 1 rule (cached per hole)."""
        if hole not in self._substitutes:
            self._substitutes[hole] = [p for p in range(len(self.view.people)) if self._can_fill(p, hole)]
        return self._substitutes[hole]

    def _can_fill(self, person: int, hole: Hole) -> bool:
        rotation_index, day, slot, _ = hole
        view = self.view
        candidate = view.people[person]
        rotation = view.rotations[rotation_index]
        date_ = view.grid.day(day)
        shift = view.shift_ids[slot]
        if not self.group(hole).takes(int(view.tables.level[person])):
            return False
        if not rotation.accepts(candidate) or not candidate.active:
            return False
        if (person, day) in self.absent or candidate.missing_credentials(rotation.credentials, date_):
            return False
        # With a block plan, a resident steps in only for work their planned rotation gives them
        # (anything else is Tier 1 plan.outside_rotation).
        if view.program.has_plan_model and candidate.is_resident:
            duty = Assignment(person_id=candidate.id, date=date_, slot=shift, rotation_id=rotation.id)
            if outside_reason(view.program, candidate, duty) is not None:
                return False
        timeline: Timeline = view.timelines[person]
        began, ended = view.program.interval_bounds(date_, shift, view.program.hours_for(rotation.id, shift))
        start, end = int(began.timestamp()), int(ended.timestamp())
        overlapping = (timeline.starts < end) & (timeline.ends > start)
        if overlapping.any():
            return False
        tentative = timeline.with_duty(
            start=start,
            end=end,
            day=day,
            slot=slot,
            rotation=rotation_index,
            in_house_call=view.program.is_in_house_call(rotation.id, shift),
        )
        scope = Scope.of(view, self.params, first=day, last=day + 1)
        return not check_person(tentative, scope, self.tier1)

    def covered(self, holes: list[Hole], excluded: set[int]) -> list[Hole]:
        """The holes left uncovered when each needs a distinct substitute (augmenting paths)."""
        matched: dict[int, int] = {}  # substitute -> hole index

        def place(h: int, seen: set[int]) -> bool:
            for candidate in self.substitutes(holes[h]):
                if candidate in excluded or candidate in seen:
                    continue
                seen.add(candidate)
                if candidate not in matched or place(matched[candidate], seen):
                    matched[candidate] = h
                    return True
            return False

        return [holes[h] for h in range(len(holes)) if not place(h, set())]

    def describe(self, hole: Hole) -> str:
        rotation_index, day, slot, _ = hole
        group = self.group(hole)
        role = (
            "faculty"
            if group.faculty
            else "resident"
            if group.pgy is None
            else group.label().replace("residents", "resident")
        )
        return (
            f"{self.view.rotations[rotation_index].id} {self.view.grid.day(day)} {self.view.shift_ids[slot]} ({role})"
        )

    def n1(self) -> tuple[list[ResilienceGap], list[tuple[int, int, int]]]:
        """Failures, and the critical pairs (person, sole substitute, day) for N-2."""
        failures, critical = [], []
        for person, day in sorted(self.working):
            holes = self.holes(person, day)
            if not holes:
                continue
            uncovered = self.covered(holes, excluded={person})
            if uncovered:
                failures.append(self._gap((person,), day, uncovered))
                continue
            for hole in holes:
                alternatives = [s for s in self.substitutes(hole) if s != person]
                if len(alternatives) == 1:
                    critical.append((person, alternatives[0], day))
        return failures, critical

    def n2(self, critical: list[tuple[int, int, int]]) -> list[ResilienceGap]:
        failures = []
        for first, second, day in sorted(set(critical)):
            holes = self.holes(first, day) + self.holes(second, day)
            uncovered = self.covered(holes, excluded={first, second})
            if uncovered:
                failures.append(self._gap((first, second), day, uncovered))
        return failures

    def _gap(self, people: tuple[int, ...], day: int, uncovered: list[Hole]) -> ResilienceGap:
        ids = tuple(self.view.people[p].id for p in people)
        slots = tuple(self.describe(h) for h in uncovered)
        who = " and ".join(ids)
        return ResilienceGap(
            person_ids=ids,
            date=self.view.grid.day(day),
            uncovered=slots,
            message=f"losing {who} on {self.view.grid.day(day)} leaves {', '.join(slots)} without a rule-abiding substitute",
        )
