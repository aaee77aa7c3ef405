"""Calendars for people: a schedule as RFC 5545 iCalendar files, one per person and one for the program.

Times carry the program's time zone (``DTSTART;TZID=America/New_York:...``) with a matching
VTIMEZONE, so a calendar app shows a 19:00 call ending at 07:00 the next morning even across a
daylight-saving change. Each event's UID is derived from (program, person, date, slot) alone:
re-importing a later export updates the events it already holds instead of adding copies, and a
change of rotation keeps the UID. LAST-MODIFIED and SEQUENCE follow the assignment row's last
write when the caller passes the rows' revision times.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from icalendar import Calendar, Event, Timezone
from sqlalchemy import select

from rotaguard.db import AssignmentRepository, Database
from rotaguard.db.tables import AssignmentRow
from rotaguard.domain import Assignment, Person, Program, Schedule
from rotaguard.errors import RotaGuardError
from rotaguard.interchange.export import export_people

PRODID = "-//RotaGuard//Schedule export//EN"
PROGRAM_CALENDAR = "program.ics"

# Fixed forever: changing it changes every UID ever exported, and calendars would fill with copies.
UID_NAMESPACE = uuid.UUID("d1c9d912-8cec-541d-af99-3556a5c31ce9")
# SEQUENCE is the whole seconds from this instant to the row's last write: it only grows, and it
# stays within a signed 32-bit integer until 2088.
SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)

Revisions = Mapping[tuple[str, date, str], datetime]
"""When each assignment (by person, day and slot) was last written, as an aware datetime."""


@dataclass(frozen=True)
class CalendarFile:
    name: str
    """The file name: ``<person-id>.ics``, or ``program.ics`` for the whole program."""
    person_id: str | None
    events: int
    content: bytes


def event_uid(program: Program, person_id: str, day: date, slot: str) -> str:
    """The event's UID: a UUID (version 5) of the program's name, the person, the day and the slot
    (the shift type's id: v1's AM, PM and CALL give the UIDs they always gave)."""
    return str(uuid.uuid5(UID_NAMESPACE, "\x1f".join((program.name, person_id, day.isoformat(), str(slot)))))


def load_schedule_with_revisions(database: Database, *, start: date, end: date) -> tuple[Schedule, dict]:
    """The range's assignments and when each row was last written, read in one transaction."""
    with database.read() as session:
        schedule = AssignmentRepository(session).schedule(start=start, end=end)
        rows = session.execute(
            select(AssignmentRow.person_id, AssignmentRow.date, AssignmentRow.slot, AssignmentRow.updated_at).where(
                AssignmentRow.date >= start, AssignmentRow.date <= end
            )
        )
        revisions = {(person_id, day, str(slot)): updated_at for person_id, day, slot, updated_at in rows}
    return schedule, revisions


def person_calendar(
    program: Program,
    schedule: Schedule,
    person: Person,
    *,
    start: date,
    end: date,
    now: datetime,
    revisions: Revisions | None = None,
) -> bytes:
    """One person's assignments in the range as an iCalendar document."""
    own = Schedule(assignments=schedule.for_person(person.id))
    return _calendar(
        program,
        own,
        name=f"{program.name}: {person.name}",
        start=start,
        end=end,
        now=now,
        revisions=revisions,
        with_person=False,
    )


def program_calendar(
    program: Program, schedule: Schedule, *, start: date, end: date, now: datetime, revisions: Revisions | None = None
) -> bytes:
    """Every assignment in the range, each event naming its person."""
    return _calendar(
        program, schedule, name=program.name, start=start, end=end, now=now, revisions=revisions, with_person=True
    )


def export_calendars(
    program: Program, schedule: Schedule, *, start: date, end: date, now: datetime, revisions: Revisions | None = None
) -> list[CalendarFile]:
    """A calendar per person (every active person, and anyone assigned in the range) and the
    program's calendar last. Refuses person ids whose file names would collide (``program``, or
    ids equal but for case on a case-insensitive file system)."""
    schedule = schedule.between(start, end)
    people = export_people(program, schedule)
    taken: dict[str, str] = {PROGRAM_CALENDAR.lower(): "the program calendar"}
    files = []
    for person in people:
        name = f"{person.id}.ics"
        if (other := taken.get(name.lower())) is not None:
            raise RotaGuardError(f"cannot write calendars: {name} for person {person.id!r} would overwrite {other}")
        taken[name.lower()] = f"person {person.id!r}"
        content = person_calendar(program, schedule, person, start=start, end=end, now=now, revisions=revisions)
        files.append(
            CalendarFile(name=name, person_id=person.id, events=len(schedule.for_person(person.id)), content=content)
        )
    content = program_calendar(program, schedule, start=start, end=end, now=now, revisions=revisions)
    files.append(CalendarFile(name=PROGRAM_CALENDAR, person_id=None, events=len(schedule.assignments), content=content))
    return files


def _calendar(
    program: Program,
    schedule: Schedule,
    *,
    name: str,
    start: date,
    end: date,
    now: datetime,
    revisions: Revisions | None,
    with_person: bool,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", program.timezone)
    stamp = now.astimezone(UTC).replace(microsecond=0)
    for assignment in schedule.between(start, end).sorted().assignments:
        calendar.add_component(
            _event(program, assignment, stamp=stamp, revisions=revisions or {}, with_person=with_person)
        )
    # The zone's rules from the start of the range's year until after its end (a call on
    # 31 December ends next year), enough for every event here and small.
    first, last = date(start.year, 1, 1), date(end.year + 2, 1, 1)
    calendar.add_missing_timezones(first_date=first, last_date=last)
    if not calendar.subcomponents:
        # RFC 5545 wants at least one component: an empty calendar still says its time zone.
        calendar.add_component(Timezone.from_tzid(program.timezone, first_date=first, last_date=last))
    return calendar.to_ical()


def _event(
    program: Program, assignment: Assignment, *, stamp: datetime, revisions: Revisions, with_person: bool
) -> Event:
    person = program.person(assignment.person_id)
    rotation = program.rotation(assignment.rotation_id)
    interval = program.interval(assignment)
    slot = assignment.slot
    summary = f"{rotation.name} ({slot})"
    event = Event()
    event.add("uid", event_uid(program, assignment.person_id, assignment.date, assignment.slot))
    event.add("dtstamp", stamp)
    event.add("dtstart", interval.start)
    event.add("dtend", interval.end)
    event.add("summary", f"{person.name}: {summary}" if with_person else summary)
    event.add("description", _description(program, assignment, person, interval.hours))
    event.add("categories", [rotation.name])
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    modified = revisions.get(assignment.key)
    if modified is not None:
        modified = modified.astimezone(UTC)
        event.add("last-modified", modified.replace(microsecond=0))
        event.add("sequence", max(0, int((modified - SEQUENCE_EPOCH).total_seconds())))
    return event


def _description(program: Program, assignment: Assignment, person: Person, hours: float) -> str:
    rotation = program.rotation(assignment.rotation_id)
    who = person.role.value if person.pgy is None else f"{person.role.value}, PGY-{person.pgy}"
    length = f"{hours:g} h"
    if abs(hours - program.hours_of(assignment)) > 1e-9:
        length += f" (rostered {program.hours_of(assignment):g} h; the clock changes during this duty)"
    lines = [
        f"Person: {person.name} ({person.id}, {who})",
        f"Rotation: {rotation.name} ({rotation.id})",
        f"Slot: {assignment.slot} on {assignment.date.isoformat()}",
        f"Length: {length}",
        f"Program: {program.name} ({program.timezone})",
    ]
    if assignment.locked:
        lines.append("Locked: the solver never moves it")
    return "\n".join(lines)
