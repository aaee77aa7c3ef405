"""The program document ``rotaguard-program/1``: parse, check, convert, write.

People, rotations, absences and assignments use the domain models directly, so the
published schema and the domain cannot drift apart without the schema test noticing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeAlias

from pydantic import Field, ValidationError, create_model
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from rotaguard.domain import (
    Absence,
    Person,
    Program,
    ResidentStaffing,
    Role,
    Rotation,
    RuleParams,
    Schedule,
    Slot,
    SlotTime,
    SlotTimes,
    StaffMember,
    Weekday,
)
from rotaguard.domain import Assignment as Duty
from rotaguard.domain.base import IDENTIFIER_PATTERN, VISIBLE_TEXT_PATTERN, CalendarDate, DisplayName, Frozen
from rotaguard.domain.program import DEFAULT_BLOCK_ANCHOR, TimeZoneName
from rotaguard.errors import InputError, Problem
from rotaguard.interchange.v1_models import Assignment as V1Assignment
from rotaguard.interchange.v1_models import Rotation as V1Rotation

if TYPE_CHECKING:
    from rotaguard.interchange.document_v2 import ProgramDocumentV2

FORMAT = "rotaguard-program/1"
SCHEMA_ID = "https://rotaguard.example/schemas/rotaguard-program-1.json"

# Limits keep a hostile or mistaken document from exhausting memory; real programs are far smaller.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
MAX_PEOPLE = 2_000
MAX_ROTATIONS = 500
MAX_ABSENCES = 50_000
MAX_ASSIGNMENTS = 500_000
MAX_STAFF = 500

HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class SlotSpec(Frozen):
    start: str = Field(pattern=HHMM_PATTERN, description="Local start time, HH:MM")
    hours: float = Field(gt=0, le=24)


_DEFAULT_SLOTS = SlotTimes()


def _slot_spec(slot_time: SlotTime) -> SlotSpec:
    return SlotSpec(start=slot_time.start.strftime("%H:%M"), hours=slot_time.hours)


class SlotsSpec(Frozen):
    AM: SlotSpec = _slot_spec(_DEFAULT_SLOTS.AM)
    PM: SlotSpec = _slot_spec(_DEFAULT_SLOTS.PM)
    CALL: SlotSpec = _slot_spec(_DEFAULT_SLOTS.CALL)


class ProgramSpec(Frozen):
    name: DisplayName
    timezone: TimeZoneName = Field(default="America/New_York", description="IANA time zone")
    slots: SlotsSpec = SlotsSpec()
    block_anchor: CalendarDate = Field(
        default=DEFAULT_BLOCK_ANCHOR, description="First day of Block 1 of some academic year; blocks are 28 days"
    )


def _optional(field: FieldInfo) -> Any:
    """The field's type, constraints included, or None (a type built at run time, so ``Any``)."""
    annotation: Any = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
    return annotation | None


_OVERRIDE_FIELDS: dict[str, Any] = {
    # The same bounds as RuleParams, so the published schema states them too.
    name: (
        _optional(field),
        Field(default=None, description=field.description, json_schema_extra={"default": field.default}),
    )
    for name, field in RuleParams.model_fields.items()
}
RuleOverrides = create_model(
    "RuleOverrides",
    __base__=Frozen,
    __doc__="Overrides of RuleParams by field name; an unknown name is an error.",
    **_OVERRIDE_FIELDS,
)


class ProgramDocument(Frozen):
    """A whole residency program in one JSON document."""

    format: Literal["rotaguard-program/1"]
    program: ProgramSpec
    rules: RuleOverrides = RuleOverrides()
    people: tuple[Person, ...] = Field(default=(), max_length=MAX_PEOPLE)
    rotations: tuple[V1Rotation, ...] = Field(default=(), max_length=MAX_ROTATIONS)
    absences: tuple[Absence, ...] = Field(default=(), max_length=MAX_ABSENCES)
    assignments: tuple[V1Assignment, ...] = Field(default=(), max_length=MAX_ASSIGNMENTS)
    staff: tuple[StaffMember, ...] = Field(
        default=(),
        max_length=MAX_STAFF,
        description="Coordinators and administrators who may act for anyone (optional)",
    )

    # Where the importer's findings point, in this version's words (see ``document_v2``).
    SERVICES_AT: ClassVar[str] = "$.rotations"
    DUTIES_AT: ClassVar[str] = "$.assignments"

    def rule_overrides(self) -> dict:
        return self.rules.model_dump(exclude_none=True)

    def services_list(self) -> tuple[Rotation, ...]:
        """The rotations as the domain's services, in document order."""
        return tuple(rotation.to_service() for rotation in self.rotations)

    def duty_list(self) -> tuple[Duty, ...]:
        """The assignments as the domain's duties, in document order."""
        return tuple(assignment.to_duty() for assignment in self.assignments)

    def plan_rows(self) -> tuple:
        return ()

    def warnings(self) -> list[Problem]:
        return document_warnings(self)

    def to_program(self) -> Program:
        slots = SlotTimes(
            **{
                slot.value: SlotTime(start=time.fromisoformat(spec.start), hours=spec.hours)
                for slot, spec in ((s, getattr(self.program.slots, s.value)) for s in Slot)
            }
        )
        return Program(
            name=self.program.name,
            timezone=self.program.timezone,
            slots=slots,
            block_anchor=self.program.block_anchor,
            rules=RuleParams(**self.rule_overrides()),
            people=self.people,
            rotations=tuple(rotation.to_service() for rotation in self.rotations),
            absences=self.absences,
            staff=self.staff,
        )

    def to_schedule(self) -> Schedule:
        return Schedule(assignments=tuple(assignment.to_duty() for assignment in self.assignments))


AnyDocument: TypeAlias = "ProgramDocument | ProgramDocumentV2"


def document_from(program: Program, schedule: Schedule, *, rule_overrides: dict) -> ProgramDocument:
    """The v1 document for a program and its assignments, in a stable order.

    Only a v1 program has one: ValueError for a program with v2 parts (write those as
    ``rotaguard-program/2``, :func:`rotaguard.interchange.document_v2.document_from`)."""
    if program.shift_types or program.has_plan_model:
        raise ValueError("a program with shift types or block rotations has no v1 document: export it as v2")
    return ProgramDocument(
        format=FORMAT,
        program=ProgramSpec(
            name=program.name,
            timezone=program.timezone,
            slots=SlotsSpec(**{slot.value: _slot_spec(program.slots.of(slot)) for slot in Slot}),
            block_anchor=program.block_anchor,
        ),
        rules=RuleOverrides(**rule_overrides),
        people=tuple(sorted(program.people, key=lambda p: p.id)),
        rotations=tuple(V1Rotation.from_service(r) for r in sorted(program.rotations, key=lambda r: r.id)),
        absences=tuple(sorted(program.absences, key=lambda a: (a.person_id, a.start, a.end, a.kind))),
        assignments=tuple(V1Assignment.from_duty(a) for a in schedule.sorted().assignments),
        staff=tuple(sorted(program.staff, key=lambda s: s.id)),
    )


def dump_document(document: ProgramDocument) -> str:
    return json.dumps(document.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False) + "\n"


def json_schema() -> dict:
    schema = ProgramDocument.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def json_path(location: tuple) -> str:
    path = "$"
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


# What a pattern means, in words: the patterns themselves are unreadable in a message.
_PATTERN_MEANINGS: dict[str | None, str] = {
    IDENTIFIER_PATTERN: "an id is letters, digits, '-', '_' and '.' only",
    VISIBLE_TEXT_PATTERN: "a name needs a visible character and may hold no control characters",
    HHMM_PATTERN: "a time is HH:MM (00:00 to 23:59)",
}


def _pattern_message(item: ErrorDetails) -> str:
    pattern = (item.get("ctx") or {}).get("pattern")
    meaning = _PATTERN_MEANINGS.get(pattern, f"does not match {pattern}")
    return f"{meaning}: found {_shown(item['input'])}"


def _shown(value) -> str:
    # repr() escapes control characters, so the one-line message stays one line; long input is cut.
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}... ({len(value):,} characters)"


def _pydantic_problems(error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field (check the spelling)"
        elif item["type"] == "missing":
            message = "required field is missing"
        elif item["type"] == "string_pattern_mismatch":
            message = _pattern_message(item)
        problems.append(Problem(json_path(item["loc"]), message))
    return problems


class NotJsonNumber(ValueError):
    """NaN or Infinity: Python's json reads them, but they are not JSON and no field means them."""


def _refuse_constant(name: str):
    raise NotJsonNumber(f"{name} is not a JSON number")


def load_json(text: str | bytes, *, source: str) -> dict:
    """The document's JSON object, or InputError: too large, not JSON, not an object."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise InputError(source, [Problem("$", f"document is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")])
    try:
        raw = json.loads(text, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"line {exc.lineno} column {exc.colno}: " if isinstance(exc, json.JSONDecodeError) else ""
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
        raise InputError(source, [Problem("$", f"not valid JSON: {where}{reason}")]) from None
    except NotJsonNumber as exc:
        raise InputError(source, [Problem("$", f"not valid JSON: {exc}")]) from None
    except RecursionError:
        raise InputError(source, [Problem("$", "not valid JSON: nested too deeply")]) from None
    if not isinstance(raw, dict):
        raise InputError(source, [Problem("$", "a program document is a JSON object")])
    return raw


def parse_document(text: str | bytes, *, source: str = "document") -> AnyDocument:
    """Parse and check a whole document of either version (by its ``format``); raise InputError
    listing every problem found. A v1 document stays v1 here: ``to_program`` converts it."""
    from rotaguard.interchange import document_v2

    raw = load_json(text, source=source)
    found = raw.get("format")
    if found == document_v2.FORMAT:
        return document_v2.parse_v2(text, source=source)
    if found != FORMAT:
        expected = f"{FORMAT!r} or {document_v2.FORMAT!r}"
        raise InputError(source, [Problem("$.format", f"expected {expected}, found {found!r}")])
    return parse_v1(text, source=source)


def parse_v1(text: str | bytes, *, source: str = "document") -> ProgramDocument:
    """Parse and check a ``rotaguard-program/1`` document (its JSON already known to be an object)."""
    try:
        # Strict JSON mode: "1" is not a PGY level and 20000 is not a date.
        document = ProgramDocument.model_validate_json(text, strict=True)
    except ValidationError as exc:
        raise InputError(source, _pydantic_problems(exc)) from None
    problems = check_document(document)
    if problems:
        raise InputError(source, problems)
    return document


def read_document(path: Path) -> AnyDocument:
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise InputError(
                source, [Problem("$", f"document is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")]
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(source, [Problem(source, "no such file")]) from None
    except IsADirectoryError:
        raise InputError(source, [Problem(source, "is a directory, not a file")]) from None
    except PermissionError:
        raise InputError(source, [Problem(source, "permission denied")]) from None
    except OSError as exc:  # a name too long, a loop of links, an I/O error: about the path given
        raise InputError(source, [Problem(source, (exc.strerror or str(exc)).lower())]) from None
    return parse_document(data, source=source)


def _first_index(values: list[str]) -> tuple[dict[str, int], list[tuple[int, str, int]]]:
    first: dict[str, int] = {}
    duplicates = []
    for index, value in enumerate(values):
        if value in first:
            duplicates.append((index, value, first[value]))
        else:
            first[value] = index
    return first, duplicates


def check_document(document: ProgramDocument) -> list[Problem]:
    """Cross-reference checks the field types cannot express, each with its JSON path."""
    problems: list[Problem] = []
    people, dupes = _first_index([p.id for p in document.people])
    problems += [Problem(f"$.people[{i}].id", f"duplicate id {v!r} (first at $.people[{j}])") for i, v, j in dupes]
    staff, dupes = _first_index([s.id for s in document.staff])
    problems += [Problem(f"$.staff[{i}].id", f"duplicate id {v!r} (first at $.staff[{j}])") for i, v, j in dupes]
    problems += [
        Problem(f"$.staff[{index}].id", f"{member_id!r} is already a person's id (one id names one actor)")
        for member_id, index in staff.items()
        if member_id in people
    ]
    rotations, dupes = _first_index([r.id for r in document.rotations])
    problems += [
        Problem(f"$.rotations[{i}].id", f"duplicate id {v!r} (first at $.rotations[{j}])") for i, v, j in dupes
    ]

    try:
        RuleParams(**document.rule_overrides())
    except ValidationError as exc:
        problems += [
            Problem(json_path(("rules", *item["loc"])), item["msg"].removeprefix("Value error, "))
            for item in exc.errors()
        ]

    absences_by_person: dict[str, list[tuple[int, Absence]]] = defaultdict(list)
    for index, absence in enumerate(document.absences):
        if absence.person_id not in people:
            problems.append(Problem(f"$.absences[{index}].person_id", f"unknown person {absence.person_id!r}"))
        absences_by_person[absence.person_id].append((index, absence))

    seen: dict[tuple[str, date, str], int] = {}
    for index, assignment in enumerate(document.assignments):
        path = f"$.assignments[{index}]"
        if (earlier := seen.get(assignment.key)) is not None:
            problems.append(
                Problem(
                    path,
                    f"{assignment.person_id} already has an assignment on {assignment.date} {assignment.slot.value}"
                    f" (at $.assignments[{earlier}])",
                )
            )
        else:
            seen[assignment.key] = index
        if assignment.person_id not in people:
            problems.append(Problem(f"{path}.person_id", f"unknown person {assignment.person_id!r}"))
        rotation_index = rotations.get(assignment.rotation_id)
        if rotation_index is None:
            problems.append(Problem(f"{path}.rotation_id", f"unknown rotation {assignment.rotation_id!r}"))
        elif assignment.slot not in (rotation := document.rotations[rotation_index]).slots:
            slots = ", ".join(s.value for s in rotation.slots)
            problems.append(
                Problem(
                    f"{path}.slot", f"rotation {rotation.id!r} has no {assignment.slot.value} slot (it has {slots})"
                )
            )
        for absence_index, absence in absences_by_person.get(assignment.person_id, []):
            if absence.covers(assignment.date):
                problems.append(
                    Problem(
                        f"{path}.date",
                        f"{assignment.person_id} is absent on {assignment.date} ({absence.kind}, $.absences[{absence_index}])",
                    )
                )
    return problems


def document_warnings(document: ProgramDocument) -> list[Problem]:
    """What a rule forbids but the data can hold: the compliance engine judges it.

    Warnings, not errors: history records what happened, and the format's own example
    places a PGY-1 on a PGY-2/3 call.
    """
    return duty_warnings(
        document.people,
        tuple(rotation.to_service() for rotation in document.rotations),
        tuple(assignment.to_duty() for assignment in document.assignments),
        services_at="$.rotations",
        duties_at="$.assignments",
    )


def _resident_groups(service: Rotation) -> list[tuple[str, ResidentStaffing]]:
    """Each resident group of the service with its path under the service (v1 form: one)."""
    if not service.coverage:
        return [("residents", service.residents)]
    return [
        (f"coverage[{i}].residents[{j}]", group)
        for i, entry in enumerate(service.coverage)
        for j, group in enumerate(entry.residents)
    ]


def _faculty_max(service: Rotation) -> int:
    return (
        max((entry.faculty.max for entry in service.coverage), default=0) if service.coverage else service.faculty.max
    )


def duty_warnings(
    people: tuple[Person, ...],
    services: tuple[Rotation, ...],
    duties: tuple[Duty, ...],
    *,
    services_at: str,
    duties_at: str,
) -> list[Problem]:
    """Eligibility findings on services and duties, at ``{services_at}[i]`` and ``{duties_at}[i]``:
    one rule set for both document versions and for bulk assignment files."""
    by_id = {person.id: person for person in people}
    services_by_id = {service.id: service for service in services}
    warnings = []
    for index, defined in enumerate(services):
        path = f"{services_at}[{index}]"
        groups = _resident_groups(defined)
        if defined.moonlighting:
            warnings += [
                Problem(f"{path}.{where}.pgy", "PGY-1 residents may not moonlight (ACGME VI.F.5.c / 6.25.b)")
                for where, group in groups
                if 1 in group.pgy and group.max > 0
            ]
        if defined.supervised and any(group.max > 0 for _, group in groups) and _faculty_max(defined) == 0:
            where = "faculty.max" if not defined.coverage else "coverage"
            warnings.append(Problem(f"{path}.{where}", "residents on this supervised rotation can never have faculty"))
    for index, duty in enumerate(duties):
        person, service = by_id.get(duty.person_id), services_by_id.get(duty.rotation_id)
        if person is None or service is None:
            continue
        path = f"{duties_at}[{index}]"
        day = Weekday.of(duty.date)
        if duty.slot in service.slots and not service.runs_on(duty.date, duty.slot):
            warnings.append(Problem(f"{path}.date", f"rotation {service.id!r} does not run on {day.value} {duty.date}"))
        if not service.accepts(person):
            if person.role is Role.FACULTY:
                reason = f"rotation {service.id!r} takes no faculty"
            elif not any(group.max > 0 for _, group in _resident_groups(service)):
                reason = f"rotation {service.id!r} takes no residents"
            else:
                eligible = sorted({lvl for _, g in _resident_groups(service) if g.max > 0 for lvl in g.pgy})
                levels = ", ".join(str(level) for level in eligible)
                reason = f"{person.id} (PGY-{person.pgy}) is not eligible for {service.id!r} (PGY {levels})"
            warnings.append(Problem(f"{path}.person_id", reason))
        if missing := person.missing_credentials(service.credentials, duty.date):
            warnings.append(
                Problem(
                    f"{path}.person_id",
                    f"{person.id} lacks {', '.join(missing)} (required by {service.id!r}) on {duty.date}",
                )
            )
    return warnings
