"""The solver's hard cases: dense v1 programs and the realistic profiles, as (program, problem).

The v1 cases start from ``bench/cases/`` (copies of the project's ``solver-cases``: a synthetic
26-person internal-medicine program with seven on the wards and two in the ICU every day, three
in clinic on weekdays, two night calls); the variants the solver issue describes are derived
here, the same every time:

- ``dense`` / ``dense+leave`` / ``pgy1+leave``: the three documents as they are;
- ``dense+3calls``: a third night-call service like ``NIGHT``;
- ``dense+leave+requests``: 72 day-off requests (seeded) on top of the leave;
- ``short-staffed``: the PGY-1-heavy program (8 seniors) with 3 calls a night: 84 calls needed,
  8 × 9 allowed = 72, so 12 cannot be covered;
- ``dense@90`` / ``dense@150`` (and ``short-staffed@90``): the dense program scaled (people and
  every minimum and maximum in proportion);
- ``internal-medicine@36`` ... ``family-medicine@90``: ``program synth --profile`` (seed 1), the
  first block of the year on its plan.

Works on any revision of the package that reads v1 documents (the benchmark runs it against the
previous solver too).
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
BLOCK_START = date(2026, 3, 12)  # block 10 of the documents' year (anchor 2025-07-03)


@dataclass(frozen=True)
class Case:
    name: str
    people: int
    note: str


V1_CASES = (
    Case("dense", 26, "7 wards, 2 ICU, 3 clinic, 2 night calls"),
    Case("dense+leave", 26, "and week-long vacations"),
    Case("pgy1+leave", 26, "10 PGY-1, 8 seniors, leave"),
    Case("dense+3calls", 26, "3 night calls"),
    Case("dense+leave+requests", 26, "leave and 72 day-off requests"),
    Case("short-staffed", 26, "84 calls needed, 72 possible"),
    Case("dense@90", 90, "dense, scaled"),
    Case("short-staffed@90", 90, "short-staffed, scaled"),
    Case("dense@150", 150, "dense, scaled"),
)
PROFILE_CASES = (
    Case("internal-medicine@36", 36, "rotation plan"),
    Case("internal-medicine@90", 90, "rotation plan"),
    Case("family-medicine@36", 36, "rotation plan"),
    Case("family-medicine@90", 90, "rotation plan"),
)
ALL_CASES = V1_CASES + PROFILE_CASES
SMOKE_CASES = ("dense", "short-staffed", "internal-medicine@24")


def _document(name: str) -> dict:
    return json.loads((HERE / "cases" / f"{name}.json").read_text())


def _third_call(document: dict) -> dict:
    document = copy.deepcopy(document)
    night = next(r for r in document["rotations"] if r["id"] == "NIGHT")
    extra = dict(night, id="NIGHT-B", name="Night float, second team")
    document["rotations"].append(extra)
    return document


def _scaled(document: dict, people: int) -> dict:
    """The program with about ``people`` people: each PGY class and the faculty in proportion,
    every staffing minimum and maximum scaled the same (rounded), absences copied with them."""
    document = copy.deepcopy(document)
    factor = people / len(document["people"])
    originals = document["people"]
    by_group: dict[tuple[str, int | None], list[dict]] = {}
    for person in originals:
        by_group.setdefault((person["role"], person.get("pgy")), []).append(person)
    made: list[dict] = []
    copies: dict[str, list[str]] = {}
    for (_, _), members in by_group.items():
        wanted = round(len(members) * factor)
        for n in range(wanted):
            source = members[n % len(members)]
            clone = dict(source, id=f"{source['id']}-{n // len(members)}" if n >= len(members) else source["id"])
            clone["name"] = f"{source['name']} {n // len(members)}" if n >= len(members) else source["name"]
            made.append(clone)
            copies.setdefault(source["id"], []).append(clone["id"])
    document["people"] = made
    document["absences"] = [
        dict(absence, person_id=copy_id)
        for absence in document["absences"]
        for copy_id in copies.get(absence["person_id"], [])
    ]
    for rotation in document["rotations"]:
        for key in ("residents", "faculty"):
            staffing = rotation[key]
            staffing["min"] = round(staffing["min"] * factor)
            staffing["max"] = max(staffing["min"], round(staffing["max"] * factor))
    return document


def v1_document(name: str) -> dict:
    base, _, size = name.partition("@")
    documents = {
        "dense": lambda: _document("dense-26"),
        "dense+leave": lambda: _document("dense-26-leave"),
        "pgy1+leave": lambda: _document("dense-26-pgy1-leave"),
        "dense+3calls": lambda: _third_call(_document("dense-26")),
        "dense+leave+requests": lambda: _document("dense-26-leave"),
        "short-staffed": lambda: _third_call(_document("dense-26-pgy1-leave")),
    }
    document = documents[base]()
    return _scaled(document, int(size)) if size else document


def day_off_requests(program, start: date, days: int, count: int, seed: int = 7):
    """``count`` day-off requests: residents present that day, days drawn at random (seeded)."""
    from rotaguard.solver import Request

    rng = random.Random(seed)
    residents = [p for p in program.people if p.is_resident]
    absent = {
        (a.person_id, a.start + timedelta(days=i)) for a in program.absences for i in range((a.end - a.start).days + 1)
    }
    found: dict[tuple[str, date], Request] = {}
    while len(found) < count:
        person = rng.choice(residents)
        day = start + timedelta(days=rng.randrange(days))
        if (person.id, day) not in absent:
            found[(person.id, day)] = Request(person_id=person.id, date=day, weight=rng.choice((1, 1, 2, 3)))
    return tuple(found.values())


def build_case(name: str, *, days: int = 28):
    """(program, ScheduleProblem) of a case; ``days`` shortens the range for smoke runs."""
    from rotaguard.solver import ScheduleProblem

    base, _, size = name.partition("@")
    if base in ("internal-medicine", "family-medicine"):
        from rotaguard.interchange.profiles import synthesize_profile

        program = synthesize_profile(base, residents=int(size), seed=1)
        start = program.year.blocks[0].start
        return program, ScheduleProblem(program=program, start=start, end=start + timedelta(days=days - 1))
    from rotaguard.interchange.document import parse_document

    program = parse_document(json.dumps(v1_document(name)), source=name).to_program()
    start, end = BLOCK_START, BLOCK_START + timedelta(days=days - 1)
    requests = day_off_requests(program, start, days, 72 * days // 28) if base == "dense+leave+requests" else ()
    return program, ScheduleProblem(program=program, start=start, end=end, requests=requests)


# Each solver penalty that ``validate`` also judges, and how validate's findings count it.
JUDGED_BY_VALIDATE = {
    "unmet_staffing": "people missing from coverage minimums (coverage gaps)",
    "short_rest": "acgme.rest.between_duties warnings",
    "call_fairness": "fairness.call_spread: calls over the spread allowed",
    "weekend_fairness": "fairness.weekend_spread: weekend days over the spread allowed",
    "clinic": "clinic.missed warnings",
}


def findings_in_units(report) -> dict[str, float]:
    """What ``validate`` found, in the solver's penalty units (before weights)."""
    by_rule: dict[str, list] = {}
    for violation in report.violations:
        by_rule.setdefault(violation.rule_id, []).append(violation)

    def excess(rule_id: str) -> float:
        return sum((v.measured or 0) - (v.limit or 0) for v in by_rule.get(rule_id, []))

    return {
        "unmet_staffing": float(sum(max(0, g.required - g.assigned) for g in report.coverage_gaps)),
        "short_rest": float(len(by_rule.get("acgme.rest.between_duties", []))),
        "call_fairness": excess("fairness.call_spread"),
        "weekend_fairness": excess("fairness.weekend_spread"),
        "clinic": float(len(by_rule.get("clinic.missed", []))),
    }


def penalty_mismatches(result, report, weights) -> dict[str, tuple[float, float]]:
    """{penalty: (solver units, validate units)} wherever the two disagree."""
    found = findings_in_units(report)
    mismatches = {}
    for name in JUDGED_BY_VALIDATE:
        weight = getattr(weights, name)
        if not weight:
            continue
        solver_units = result.penalties.get(name, 0.0) / weight
        if solver_units != found[name]:
            mismatches[name] = (solver_units, found[name])
    return mismatches
