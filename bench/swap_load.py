"""Load: concurrent swaps on a 120-person program over PostgreSQL, with a generation queued behind them.

    .venv/bin/python bench/swap_load.py [--swaps 50] [--residents 90] [--faculty 30] [--seed 1]
                                       [--database-url postgresql://.../<empty database>] [--sequential]
                                       [--prefect-api-url http://.../api] [--smoke]

Without --database-url a throwaway database is created on ROTAGUARD_TEST_POSTGRES_URL's server
(default postgresql://postgres@127.0.0.1:5432/postgres) and dropped afterwards. Without
--prefect-api-url a Prefect test harness is started for the run. ``--smoke``: 7 swaps on a
16-person program (12 residents, 4 faculty), the same steps and checks (tests/test_bench_scripts.py
runs it on PostgreSQL against the test session's Prefect API). The script:

1. imports a synthetic program (``program synth``) whose next block the greedy solver fills,
2. plans the swaps against that block: one-day absorbs and one-to-one exchanges (each passes
   on the block as published; a person takes part in at most two, four days apart), plus
   deliberate conflicts: a second request for a duty another swap already asks for, and swaps
   that break a Tier 1 rule (a night call handed to someone on call the night before or after),
3. runs every swap as its own client process, all released at once, each doing request ->
   answer (person B) -> decision (a coordinator, when needed) -> execute through
   ``SwapService``, the code the CLI and the flows call,
4. once the first execution holds the schedule-writes lock, submits the real
   ``generate-schedule`` flow (greedy, auto-approved) for the following block against a
   Prefect API (``prefect_test_harness``); it waits for the Prefect slot and the lock, then runs,
5. checks the result: every client executed or was refused with a reason, the swapped block's
   duties are exactly the ones before with the executed moves applied (0 lost, 0 duplicated),
   nobody holds two assignments in one slot, the compliance engine finds no Tier 1 violation
   over both blocks, the audit chain verifies and records each execution once.

Prints a table and one JSON line (``{"bench": "swap_load", ...}``); exits 1 when a check fails.
``--sequential`` runs the same swaps through one client, one after another: the baseline.
tests/chaos/test_swap_load.py runs the same scenario (12 swaps; 50 with ROTAGUARD_CHAOS=1).

Why processes, not threads: each client judges schedules with the compliance engine (Python and
numpy), so threads would take turns on the GIL and the database would see far less concurrency
than 50 CLI invocations or flow runs (each its own process) give it. The processes are forked
from a ``forkserver`` with RotaGuard preloaded, so they start in milliseconds, and none inherits
the Prefect harness's threads. Each opens its database exactly as `rotaguard swap ...` does (the
default pool: one connection kept, a second only for the lock holder's lease renewal), so 50
clients stay near 51 connections, under PostgreSQL's default 100.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import multiprocessing
import os
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

COORDINATOR = "C-LOAD"
ADMIN = "A-LOAD"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BLOCK_DAYS = 28
# Swaps are planned on the block's middle days, so that every 28-day window they touch is
# mostly inside the published block.
MIDDLE_MARGIN_DAYS = 7
SWAPS_PER_PERSON = 2
SPACING_DAYS = 4
CLIENT_TIMEOUT_SECONDS = 900
# How long the queued generation may wait for the Prefect slot and the lock. `rotaguard generate`
# waits 30 s by default: behind a burst of executions it would be refused "locked" (see
# BENCHMARKS.md); a queued generation is given long enough to get its turn.
GENERATION_LOCK_WAIT_SECONDS = 900
FULL = {"swaps": 50, "residents": 90, "faculty": 30}
SMOKE = {"swaps": 7, "residents": 12, "faculty": 4}


# -- the plan ---------------------------------------------------------------------------------


class PlanningError(ValueError):
    """The program is too small for the swaps asked for."""


@dataclass(frozen=True)
class SwapPlan:
    """One client's swap. ``intent`` says what the planner expects: ``valid`` (passes on the block
    as published), ``same-duty`` (asks for a duty a ``valid`` swap also asks for), ``breaks-tier1``."""

    index: int
    intent: str
    kind: str  # "absorb" | "one_to_one"
    person_a: str
    person_b: str
    day_a: dt.date
    day_b: dt.date | None = None
    rivals: int | None = None  # for same-duty: the index of the valid swap it competes with


@dataclass(frozen=True)
class Scenario:
    swap_start: dt.date  # the published block the swaps move duties in
    swap_end: dt.date
    generation_start: dt.date  # the block the queued generation fills
    generation_end: dt.date
    people: int
    assignments: int


def scenario_dates(today: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """The next 28-day block at least two days ahead (swaps must be in the future in every time
    zone), and the block after it for the generation."""
    from rotaguard.interchange.synth import next_block_start

    start = next_block_start(today + dt.timedelta(days=2))
    generation_start = start + dt.timedelta(days=BLOCK_DAYS)
    return (
        start,
        start + dt.timedelta(days=BLOCK_DAYS - 1),
        generation_start,
        generation_start + dt.timedelta(days=BLOCK_DAYS - 1),
    )


def prepare(database, *, residents: int, faculty: int, seed: int, today: dt.date | None = None):
    """Import a synthetic program with its next block published (greedy): (program, block, scenario)."""
    from rotaguard.compliance import validate
    from rotaguard.domain import StaffMember, StaffRole
    from rotaguard.interchange.importer import import_document
    from rotaguard.interchange.synth import synthesize
    from rotaguard.interchange.v1_models import Assignment as V1Assignment
    from rotaguard.solver import ScheduleProblem, solve

    swap_start, swap_end, generation_start, generation_end = scenario_dates(today or dt.date.today())
    document = synthesize(residents=residents, faculty=faculty, seed=seed, start=swap_start)
    staff = (
        StaffMember(id=COORDINATOR, name="Load Coordinator", role=StaffRole.COORDINATOR),
        StaffMember(id=ADMIN, name="Load Administrator", role=StaffRole.ADMIN),
    )
    program = document.model_copy(update={"staff": staff}).to_program()
    schedule = solve(
        ScheduleProblem(program=program, start=swap_start, end=swap_end), algorithm="greedy", timeout_seconds=120
    ).schedule
    report = validate(schedule, program, start=swap_start, end=swap_end, resilience=False)
    if report.tier1:
        raise PlanningError(f"the published block already breaks Tier 1: {report.tier1[0].message}")
    import_document(
        database,
        document.model_copy(
            update={
                "staff": staff,
                # The v1 document holds its own rows (AM/PM/CALL): the solved duties, as v1 rows.
                "assignments": tuple(V1Assignment(**a.model_dump()) for a in schedule.assignments),
            }
        ),
        actor="swap-load",
        source="bench/swap_load.py",
    )
    scenario = Scenario(
        swap_start, swap_end, generation_start, generation_end, len(program.people), len(schedule.assignments)
    )
    return program, schedule, scenario


def _swap_request(plan: SwapPlan, *, open_request: bool = False):
    from rotaguard.domain.swaps import DateRange, SwapKind, SwapRequest

    return SwapRequest(
        id=f"plan-{plan.index}",
        requester_id=plan.person_a,
        kind=SwapKind(plan.kind),
        person_a=plan.person_a,
        person_b=None if open_request else plan.person_b,
        range_a=DateRange(start=plan.day_a, end=plan.day_a),
        range_b=DateRange(start=plan.day_b, end=plan.day_b) if plan.day_b else None,
    )


def _verdict(program, schedule, plan: SwapPlan):
    """The service's own judgement of ``plan`` on ``schedule`` (None when it cannot even apply)."""
    from rotaguard.swaps import SwapConflict, judge, moves_for

    try:
        return judge(program, schedule, moves_for(_swap_request(plan), schedule), check_n1=False)
    except SwapConflict:
        return None


class Roster:
    """Who is already in a planned swap, on which days: a person takes part in at most
    ``SWAPS_PER_PERSON`` swaps, ``SPACING_DAYS`` apart, so that only the same-duty rivals ask
    for the same assignment (what else two swaps share, a person's weekly hours or a slot's
    supervision, the executions re-judge as they land)."""

    def __init__(self) -> None:
        self.days: dict[str, list[dt.date]] = {}
        self.reserved: set[str] = set()

    def free(self, person: str, *days: dt.date) -> bool:
        taken = self.days.get(person, [])
        return (
            person not in self.reserved
            and len(taken) < SWAPS_PER_PERSON
            and all(abs((day - other).days) >= SPACING_DAYS for day in days for other in taken)
        )

    def add(self, plan: SwapPlan, *, exclusive: bool = False) -> None:
        days = [plan.day_a] + ([plan.day_b] if plan.day_b else [])
        for person in (plan.person_a, plan.person_b):
            self.days.setdefault(person, []).extend(days)
            if exclusive:
                self.reserved.add(person)


def plan_swaps(program, schedule, scenario: Scenario, *, count: int, seed: int) -> list[SwapPlan]:
    """``count`` swaps: about 8% same-duty rivals, 8% Tier 1 breakers, the rest valid (each
    passes on the block as published; one in five a one-to-one exchange)."""
    from rotaguard.swaps import rank_candidates

    rng = random.Random(seed)
    tier1_count = max(1, round(count * 0.08))
    rival_count = max(1, round(count * 0.08))
    valid_count = count - tier1_count - rival_count
    first, last = (
        scenario.swap_start + dt.timedelta(days=MIDDLE_MARGIN_DAYS),
        scenario.swap_end - dt.timedelta(days=MIDDLE_MARGIN_DAYS),
    )
    duties_by_person: dict[str, set[dt.date]] = {}
    for a in schedule.assignments:
        duties_by_person.setdefault(a.person_id, set()).add(a.date)
    # Residents and faculty alike give duties away (a candidate always has the giver's role).
    offers = sorted({(a.person_id, a.date) for a in schedule.assignments if first <= a.date <= last})
    rng.shuffle(offers)

    roster = Roster()
    # The Tier 1 breakers first: they need seniors on call on neighbouring nights.
    breakers = _tier1_breakers(program, schedule, first, last, roster, wanted=tier1_count)
    plans: list[SwapPlan] = []
    spare_takers: dict[int, list[str]] = {}
    for giver, day in offers:
        if len(plans) == valid_count:
            break
        if not roster.free(giver, day):
            continue
        probe = SwapPlan(len(plans), "valid", "absorb", giver, "?", day)
        ranked = [
            c.person_id
            for c in rank_candidates(program, schedule, _swap_request(probe, open_request=True))
            if c.person_id != giver
        ]
        takers = [t for t in ranked if roster.free(t, day)]
        if not takers:
            continue
        plan = SwapPlan(len(plans), "valid", "absorb", giver, takers[0], day)
        if len(plans) % 5 == 4:
            plan = _as_exchange(program, schedule, plan, duties_by_person, roster, first, last) or plan
        roster.add(plan)
        spare_takers[plan.index] = takers[1:]
        plans.append(plan)

    # Rivals: a second request for a valid absorb's very duty, offered to someone else.
    for rivalled in [p for p in plans if p.kind == "absorb"]:
        if sum(1 for p in plans if p.intent == "same-duty") == rival_count:
            break
        taker = next((t for t in spare_takers[rivalled.index] if roster.free(t, rivalled.day_a)), None)
        if taker is not None:
            rival = SwapPlan(
                len(plans), "same-duty", "absorb", rivalled.person_a, taker, rivalled.day_a, rivals=rivalled.index
            )
            roster.days.setdefault(taker, []).append(rivalled.day_a)
            plans.append(rival)

    plans += [dataclasses.replace(plan, index=len(plans) + n) for n, plan in enumerate(breakers)]
    if len(plans) != count:
        made = Counter(p.intent for p in plans)
        raise PlanningError(
            f"could plan only {len(plans)} of {count} swaps on {scenario.people} people ({dict(made)}; wanted {valid_count} valid, "
            f"{rival_count} same-duty, {tier1_count} breaks-tier1): use fewer --swaps or more people"
        )
    return plans


def _as_exchange(
    program, schedule, plan: SwapPlan, duties_by_person, roster: Roster, first: dt.date, last: dt.date
) -> SwapPlan | None:
    """The same pair as a one-to-one: B gives back one day A is entirely free, if one passes."""
    a_days = duties_by_person.get(plan.person_a, set())
    for day in sorted(duties_by_person.get(plan.person_b, set())):
        free = roster.free(plan.person_a, day) and roster.free(plan.person_b, day)
        if first <= day <= last and free and day not in a_days and program.absent(plan.person_a, day) is None:
            exchange = SwapPlan(plan.index, "valid", "one_to_one", plan.person_a, plan.person_b, plan.day_a, day)
            verdict = _verdict(program, schedule, exchange)
            if verdict is not None and not verdict.rejected:
                return exchange
    return None


def _tier1_breakers(program, schedule, first: dt.date, last: dt.date, roster: Roster, *, wanted: int) -> list[SwapPlan]:
    """A night call handed to a senior on call the night before or after: the compliance engine
    rejects it (consecutive nights / rest after 24 h), and the request says which rule."""
    calls = sorted((a.date, a.person_id) for a in schedule.assignments if a.slot == "CALL" and first <= a.date <= last)
    on_call = {(person, day) for day, person in calls}
    plans: list[SwapPlan] = []
    for day, giver in calls:
        if len(plans) == wanted:
            break
        if not roster.free(giver, day):
            continue
        for neighbour_day in (day - dt.timedelta(days=1), day + dt.timedelta(days=1)):
            takers = sorted(p for (p, d) in on_call if d == neighbour_day and roster.free(p, day) and p != giver)
            for taker in takers:
                plan = SwapPlan(len(plans), "breaks-tier1", "absorb", giver, taker, day)
                verdict = _verdict(program, schedule, plan)
                if program.absent(taker, day) is None and verdict is not None and verdict.rejected:
                    roster.add(plan, exclusive=True)
                    plans.append(plan)
                    break
            if plans and plans[-1].person_a == giver:
                break
    return plans


# -- the clients ------------------------------------------------------------------------------


@dataclass
class ClientOutcome:
    index: int
    status: str  # "executed" | "rejected" | "error"
    step: str  # the step that ended it
    reason: str = ""
    swap_id: str | None = None
    needed_decision: bool = False
    seconds: dict[str, float] = field(default_factory=dict)  # per step: request, answer, decide, execute
    moves: list[list[str]] = field(default_factory=list)  # [date, slot, rotation, from, to]


def drive_swap(service, plan: SwapPlan) -> ClientOutcome:
    """request -> answer -> (decision) -> execute, as person A, person B and a coordinator would."""
    from rotaguard.domain.swaps import DateRange, SwapKind, SwapStatus
    from rotaguard.swaps import SwapRefused

    outcome = ClientOutcome(plan.index, "error", "request")

    def timed(step: str, call: Callable):
        outcome.step = step
        began = time.perf_counter()
        try:
            return call()
        finally:
            outcome.seconds[step] = time.perf_counter() - began

    try:
        asked = timed(
            "request",
            lambda: service.request(
                actor_id=plan.person_a,
                kind=SwapKind(plan.kind),
                person_a=plan.person_a,
                person_b=plan.person_b,
                range_a=DateRange(start=plan.day_a, end=plan.day_a),
                range_b=DateRange(start=plan.day_b, end=plan.day_b) if plan.day_b else None,
                reason=f"load client {plan.index}",
            ),
        )
        outcome.swap_id = asked.request.id
        answered = timed(
            "answer",
            lambda: service.answer(swap_id=outcome.swap_id, actor_id=plan.person_b, accept=True, comment="load"),
        )
        if answered.request.status is SwapStatus.REJECTED:
            outcome.status, outcome.reason = "rejected", answered.message
            return outcome
        if answered.request.status is SwapStatus.NEEDS_APPROVAL:
            outcome.needed_decision = True
            timed(
                "decide",
                lambda: service.decide(swap_id=outcome.swap_id, actor_id=COORDINATOR, approve=True, comment="load"),
            )
        executed = timed("execute", lambda: service.execute(swap_id=outcome.swap_id, actor_id=plan.person_a))
        outcome.status = "executed"
        outcome.reason = executed.message
        outcome.moves = [
            [
                m.before.date.isoformat(),
                m.before.slot,
                m.before.rotation_id,
                m.before.person_id,
                m.after.person_id,
            ]
            for m in executed.moves
        ]
    except SwapRefused as refused:
        outcome.status, outcome.reason = "rejected", str(refused)
    except Exception as error:  # reported, never swallowed: an error is neither done nor refused
        outcome.status, outcome.reason = (
            "error",
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
        )
    return outcome


def client_process(plans: Sequence[SwapPlan], url: str, start_barrier, results) -> None:
    """One client, in its own process: its own engine, connections only while working. It drives
    its swaps one after another (one each under load; all of them in the sequential baseline)."""
    from rotaguard.db import Database
    from rotaguard.swaps import SwapService

    database = Database(url)  # the engine and pool `rotaguard swap ...` itself uses
    try:
        start_barrier.wait()
        for plan in plans:
            results.put(asdict(drive_swap(SwapService(database), plan)))
    except BaseException as error:  # the parent must hear about every swap
        results.put(asdict(ClientOutcome(plans[0].index, "error", "start", f"{type(error).__name__}: {error}")))
    finally:
        database.dispose()


@dataclass
class GenerationOutcome:
    submitted_after_seconds: float | None = None
    submitted_at: str | None = None  # ISO 8601, UTC
    lock_holder_when_submitted: str | None = None
    seconds: float | None = None
    status: str = "not run"
    reason: str = ""
    run_id: str | None = None
    tier1_violations: int | None = None


@dataclass
class LoadRun:
    outcomes: list[ClientOutcome]
    generation: GenerationOutcome
    wall_seconds: float
    clients: int  # processes driving the swaps at once


def _queue_generation(
    url: str,
    scenario: Scenario,
    began: float,
    clients_done: threading.Event,
    box: GenerationOutcome,
    lock_wait_seconds: int,
) -> None:
    """Submit the generation as soon as a swap execution holds the schedule-writes lock, so that
    it has to queue behind the executions (or as soon as every client is done, if none executes)."""
    from rotaguard.db import Database
    from rotaguard.db.locks import SCHEDULE_WRITES, lock_holder
    from rotaguard.flows.generate_schedule import GenerateParams, generate_schedule

    watcher = Database(url)
    try:
        while not clients_done.is_set():
            holder = lock_holder(watcher, name=SCHEDULE_WRITES)
            if holder and holder.startswith("swap-execute-"):
                box.lock_holder_when_submitted = holder
                break
            time.sleep(0.02)
    finally:
        watcher.dispose()
    box.submitted_after_seconds = time.perf_counter() - began
    box.submitted_at = dt.datetime.now(dt.UTC).isoformat()
    params = GenerateParams(
        start=scenario.generation_start,
        end=scenario.generation_end,
        algorithm="greedy",
        timeout_seconds=120,
        auto_approve_as=COORDINATOR,
        lock_wait_seconds=lock_wait_seconds,
    )
    started = time.perf_counter()
    try:
        outcome = generate_schedule(params)
        box.status, box.reason, box.run_id = outcome.status, outcome.reason, outcome.run_id
        box.tier1_violations = outcome.metrics.get("tier1_violations")
    except Exception as error:
        box.status, box.reason = "error", f"{type(error).__name__}: {error}"
    box.seconds = time.perf_counter() - started


def run_load(
    url: str,
    plans: Sequence[SwapPlan],
    scenario: Scenario,
    *,
    sequential: bool = False,
    generation_lock_wait_seconds: int = GENERATION_LOCK_WAIT_SECONDS,
) -> LoadRun:
    """All clients released at once (``sequential``: one client doing every swap in turn, the
    baseline), the generation queued behind the first execution. Needs a Prefect API
    (PREFECT_API_URL or a harness) with the schedule-writes limit, and ROTAGUARD_DATABASE_URL /
    _HOME / _BACKUP_DIR pointing the flow at ``url``."""
    context = multiprocessing.get_context("forkserver")
    # Imported once in the fork server: each client starts with RotaGuard already loaded.
    context.set_forkserver_preload(["rotaguard.swaps", "rotaguard.db", "sqlalchemy.dialects.postgresql.psycopg"])
    batches = [list(plans)] if sequential else [[plan] for plan in plans]
    barrier = context.Barrier(len(batches) + 1)
    results = context.Queue()
    processes = [
        context.Process(target=client_process, args=(batch, url, barrier, results), name=f"swap-client-{n}")
        for n, batch in enumerate(batches)
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=300)
    began = time.perf_counter()
    clients_done = threading.Event()
    generation = GenerationOutcome()
    generator = threading.Thread(
        target=_queue_generation,
        args=(url, scenario, began, clients_done, generation, generation_lock_wait_seconds),
        name="queued-generation",
    )
    generator.start()
    outcomes: list[ClientOutcome] = []
    deadline = time.monotonic() + CLIENT_TIMEOUT_SECONDS
    try:
        while len(outcomes) < len(plans) and time.monotonic() < deadline:
            try:
                outcomes.append(ClientOutcome(**results.get(timeout=5)))
            except queue.Empty:
                continue
        wall = time.perf_counter() - began
    finally:
        clients_done.set()
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    generator.join(timeout=CLIENT_TIMEOUT_SECONDS)
    heard = {o.index for o in outcomes}
    outcomes += [
        ClientOutcome(p.index, "error", "lost", "the client never reported back") for p in plans if p.index not in heard
    ]
    return LoadRun(sorted(outcomes, key=lambda o: o.index), generation, wall, clients=len(batches))


# -- the checks -------------------------------------------------------------------------------


@dataclass
class Checks:
    before_duties: int
    after_duties: int
    lost: int  # duties (date, slot, rotation) present before and missing after
    duplicated: int  # duties present after more often than before
    unexplained: int  # assignments that differ from "before + executed moves" either way
    double_booked: int  # (person, date, slot) held twice, over both blocks
    tier1: list[str]  # "rule_id person date" over both blocks
    audit_ok: bool
    audit_reason: str
    executed_events: int
    executed_clients: int
    generated_assignments: int
    failures: list[str] = field(default_factory=list)


def snapshot(database, start: dt.date, end: dt.date) -> list:
    from rotaguard.db import AssignmentRepository

    with database.read() as session:
        return list(AssignmentRepository(session).schedule(start=start, end=end).assignments)


def check_invariants(database, program, scenario: Scenario, before: Sequence, run: LoadRun) -> Checks:
    """What must hold after the load, whatever the interleaving was."""
    from sqlalchemy import func, select

    from rotaguard.compliance import validate
    from rotaguard.db import AssignmentRepository, AuditLog
    from rotaguard.db.tables import AssignmentRow

    after = snapshot(database, scenario.swap_start, scenario.swap_end)
    duties_before = Counter((a.date, a.slot, a.rotation_id) for a in before)
    duties_after = Counter((a.date, a.slot, a.rotation_id) for a in after)
    executed = [o for o in run.outcomes if o.status == "executed"]
    expected = Counter((a.person_id, a.date.isoformat(), a.slot, a.rotation_id) for a in before)
    for outcome in executed:
        for day, slot, rotation, giver, taker in outcome.moves:
            expected[(giver, day, slot, rotation)] -= 1
            expected[(taker, day, slot, rotation)] += 1
    actual = Counter((a.person_id, a.date.isoformat(), a.slot, a.rotation_id) for a in after)
    unexplained = sum(((expected - actual) + (actual - expected)).values()) + sum(1 for n in expected.values() if n < 0)
    with database.read() as session:
        key = (AssignmentRow.person_id, AssignmentRow.date, AssignmentRow.slot)
        double_booked = session.execute(
            select(func.count()).select_from(select(*key).group_by(*key).having(func.count() > 1).subquery())
        ).scalar_one()
        whole = AssignmentRepository(session).schedule(end=scenario.generation_end)
        chain = AuditLog(session).verify()
        executed_events = sum(1 for e in AuditLog(session).events() if e.action == "swap.execute")
        generated = AssignmentRepository(session).count(start=scenario.generation_start, end=scenario.generation_end)
    report = validate(whole, program, start=scenario.swap_start, end=scenario.generation_end, resilience=False)
    checks = Checks(
        before_duties=sum(duties_before.values()),
        after_duties=sum(duties_after.values()),
        lost=sum((duties_before - duties_after).values()),
        duplicated=sum((duties_after - duties_before).values()),
        unexplained=unexplained,
        double_booked=double_booked,
        tier1=[f"{v.rule_id} {v.person_id or ''} {v.date or ''}".strip() for v in report.tier1],
        audit_ok=chain.ok,
        audit_reason=chain.reason,
        executed_events=executed_events,
        executed_clients=len(executed),
        generated_assignments=generated,
    )
    checks.failures = failures_of(checks, run)
    return checks


def failures_of(checks: Checks, run: LoadRun) -> list[str]:
    failures = []
    errors = [o for o in run.outcomes if o.status == "error" or (o.status == "rejected" and not o.reason.strip())]
    failures += [f"client {o.index} {o.status} at {o.step} without a refusal: {o.reason}" for o in errors]
    if checks.lost or checks.duplicated:
        failures.append(f"{checks.lost} duties lost, {checks.duplicated} duplicated")
    if checks.unexplained:
        failures.append(f"{checks.unexplained} assignments differ from the block before plus the executed moves")
    if checks.double_booked:
        failures.append(f"{checks.double_booked} (person, date, slot) held twice")
    if checks.tier1:
        failures.append(f"{len(checks.tier1)} Tier 1 violations afterwards, first {checks.tier1[0]}")
    if not checks.audit_ok:
        failures.append(f"audit chain broken: {checks.audit_reason}")
    if checks.executed_events != checks.executed_clients:
        failures.append(
            f"{checks.executed_events} swap.execute audit events for {checks.executed_clients} executed swaps"
        )
    if run.generation.status != "published":
        failures.append(f"queued generation {run.generation.status}: {run.generation.reason}")
    return failures


@dataclass(frozen=True)
class GenerationOrder:
    executions_before: int  # swap executions the audit log records before the generation's write
    executions_after: int
    waited_at_least_seconds: float | None  # submission -> the last execution it had to let finish


def generation_order(database, generation: GenerationOutcome) -> GenerationOrder:
    """Where the generation landed among the executions. Once it holds the lock no execution can
    commit, so every execution recorded before its approval event finished before it got the
    lock: the last of them bounds its wait from below."""
    from rotaguard.db import AuditLog

    with database.read() as session:
        events = list(reversed(AuditLog(session).events()))
    mine = [e for e in events if e.subject == generation.run_id]
    approved = next((e for e in mine if e.action == "schedule.approval"), None)
    written = next((e for e in mine if e.action == "schedule.write"), None)
    executions = [e for e in events if e.action == "swap.execute"]
    if written is None or approved is None:
        return GenerationOrder(len(executions), 0, None)
    before = [e for e in executions if e.id < approved.id]
    waited = None
    if before and generation.submitted_at:
        waited = max(
            0.0, (_utc(before[-1].occurred_at) - dt.datetime.fromisoformat(generation.submitted_at)).total_seconds()
        )
    return GenerationOrder(
        sum(1 for e in executions if e.id < written.id), sum(1 for e in executions if e.id > written.id), waited
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# -- the report -------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (the same definition as bench/swap_candidates.py)."""
    ordered = sorted(values)
    return ordered[max(0, round(fraction * len(ordered)) - 1)]


def latency_summary(run: LoadRun) -> dict[str, dict[str, float]]:
    summary = {}
    for step in ("request", "answer", "decide", "execute"):
        values = [o.seconds[step] for o in run.outcomes if step in o.seconds]
        if values:
            summary[step] = {
                "n": len(values),
                "p50_ms": round(1000 * statistics.median(values), 1),
                "p95_ms": round(1000 * percentile(values, 0.95), 1),
                "max_ms": round(1000 * max(values), 1),
            }
    return summary


def rejection_reasons(run: LoadRun, plans: Sequence[SwapPlan]) -> list[dict]:
    intents = {p.index: p.intent for p in plans}
    return [
        {"client": o.index, "intent": intents[o.index], "step": o.step, "reason": o.reason}
        for o in run.outcomes
        if o.status != "executed"
    ]


def render(
    plans: Sequence[SwapPlan], scenario: Scenario, run: LoadRun, checks: Checks, order: GenerationOrder
) -> tuple[str, dict]:
    executed = [o for o in run.outcomes if o.status == "executed"]
    intents = Counter(p.intent for p in plans)
    kinds = Counter(p.kind for p in plans)
    latency = latency_summary(run)
    throughput = len(executed) / run.wall_seconds if run.wall_seconds else 0.0
    result = {
        "bench": "swap_load",
        "people": scenario.people,
        "block_assignments": scenario.assignments,
        "swaps": len(plans),
        "clients": run.clients,
        "plans": dict(intents),
        "kinds": dict(kinds),
        "executed": len(executed),
        "rejected": sum(1 for o in run.outcomes if o.status == "rejected"),
        "errors": sum(1 for o in run.outcomes if o.status == "error"),
        "needed_decision": sum(1 for o in run.outcomes if o.needed_decision),
        "moves": sum(len(o.moves) for o in executed),
        "wall_s": round(run.wall_seconds, 2),
        "throughput_swaps_per_s": round(throughput, 3),
        "latency": latency,
        "rejections": rejection_reasons(run, plans),
        "generation": {**asdict(run.generation), **asdict(order)},
        "checks": asdict(checks),
        "ok": not checks.failures,
    }
    lines = [
        f"swap load: {scenario.people} people, {scenario.assignments} assignments in {scenario.swap_start}..{scenario.swap_end}, "
        f"{len(plans)} swaps by {run.clients} concurrent client{'s' if run.clients > 1 else ''} ({', '.join(f'{n} {k}' for k, n in sorted(intents.items()))}; {', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})",
        f"executed {len(executed)}, rejected {result['rejected']}, errors {result['errors']}, coordinator decisions {result['needed_decision']}, "
        f"{result['moves']} assignments moved in {run.wall_seconds:.1f} s: {throughput:.2f} swaps/s",
        "",
        f"{'step':<8} {'n':>4} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}",
    ]
    lines += [
        f"{step:<8} {s['n']:>4} {s['p50_ms']:>9.0f} {s['p95_ms']:>9.0f} {s['max_ms']:>9.0f}"
        for step, s in latency.items()
    ]
    lines += ["", "rejected (client, intent, step: reason):"]
    lines += [f"  {r['client']:>3} {r['intent']:<13} {r['step']:<8} {r['reason']}" for r in result["rejections"]] or [
        "  none"
    ]
    g = run.generation
    lines += [
        "",
        f"generation {scenario.generation_start}..{scenario.generation_end} (greedy): {g.status} {g.reason}; submitted {g.submitted_after_seconds or 0:.1f} s in "
        f"while {g.lock_holder_when_submitted or 'nobody'} held the lock; ran {g.seconds or 0:.1f} s; "
        f"{order.executions_before} executions before its write, {order.executions_after} after "
        f"(it waited at least {order.waited_at_least_seconds or 0:.1f} s for the lock); {checks.generated_assignments} assignments",
        f"checks: duties {checks.before_duties} -> {checks.after_duties} (lost {checks.lost}, duplicated {checks.duplicated}, unexplained {checks.unexplained}), "
        f"double-booked {checks.double_booked}, Tier 1 {len(checks.tier1)}, audit chain {'ok' if checks.audit_ok else 'BROKEN'}, "
        f"swap.execute events {checks.executed_events} for {checks.executed_clients} executed",
        "result: " + ("OK" if not checks.failures else "FAILED: " + "; ".join(checks.failures)),
    ]
    return "\n".join(lines), result


# -- the script -------------------------------------------------------------------------------


@contextmanager
def throwaway_database(admin_url: str):
    """A new, empty PostgreSQL database (dropped afterwards), like tests/conftest.py's."""
    import psycopg
    from psycopg import sql

    admin_url = admin_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"rotaguard_load_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield admin_url.rpartition("/")[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def prefect_api(url: str | None = None):
    """A real Prefect API for the generation, with the schedule-writes limit it requires: the
    server at ``url``, or a test harness started for the run."""
    from rotaguard.deployments.limits import ensure_concurrency_limit

    if url:
        os.environ["PREFECT_API_URL"] = url
        ensure_concurrency_limit()
        yield
        return
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        ensure_concurrency_limit()
        yield


def run_scenario(
    url: str, *, swaps: int, residents: int, faculty: int, seed: int, sequential: bool = False
) -> tuple[str, dict, Checks]:
    from rotaguard.db import Database
    from rotaguard.db.migrate import upgrade

    database = Database(url)
    try:
        upgrade(database)
        program, _, scenario = prepare(database, residents=residents, faculty=faculty, seed=seed)
        plans = plan_swaps(program, snapshot_schedule(database, scenario), scenario, count=swaps, seed=seed)
        before = snapshot(database, scenario.swap_start, scenario.swap_end)
        run = run_load(url, plans, scenario, sequential=sequential)
        checks = check_invariants(database, program, scenario, before, run)
        table, result = render(plans, scenario, run, checks, generation_order(database, run.generation))
        return table, result, checks
    finally:
        database.dispose()


def snapshot_schedule(database, scenario: Scenario):
    from rotaguard.db import AssignmentRepository

    with database.read() as session:
        return AssignmentRepository(session).schedule(start=scenario.swap_start, end=scenario.swap_end)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swaps", type=int, help=f"concurrent clients, one swap each (default {FULL['swaps']})")
    parser.add_argument("--residents", type=int, help=f"default {FULL['residents']}")
    parser.add_argument("--faculty", type=int, help=f"default {FULL['faculty']}")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="an empty PostgreSQL database to use (default: a throwaway one)")
    parser.add_argument(
        "--sequential", action="store_true", help="baseline: one client runs the same swaps one after another"
    )
    parser.add_argument("--prefect-api-url", help="a Prefect API to run the generation on (default: a test harness)")
    parser.add_argument(
        "--smoke", action="store_true", help=f"{SMOKE['swaps']} swaps on a tiny program: the same steps and checks"
    )
    args = parser.parse_args(argv)
    for name, value in (SMOKE if args.smoke else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.swaps < 3:
        parser.error("--swaps must be at least 3 (one valid, one rival, one Tier 1 breaker)")

    with tempfile.TemporaryDirectory(prefix="swap-load-") as home, _database(args.database_url) as url:
        os.environ.update(
            ROTAGUARD_DATABASE_URL=url,
            ROTAGUARD_HOME=home,
            ROTAGUARD_BACKUP_DIR=os.path.join(home, "backups"),
            PREFECT_HOME=os.path.join(home, "prefect"),
            # The harness's telemetry service only adds "database is locked" noise offline.
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
        )
        with prefect_api(args.prefect_api_url):
            try:
                table, result, checks = run_scenario(
                    url,
                    swaps=args.swaps,
                    residents=args.residents,
                    faculty=args.faculty,
                    seed=args.seed,
                    sequential=args.sequential,
                )
            except PlanningError as error:
                print(f"swap_load: error: {error}", file=sys.stderr)
                return 2
    print(table)
    print(json.dumps(result, default=str, separators=(",", ":")))
    return 0 if not checks.failures else 1


@contextmanager
def _database(url: str | None):
    if url:
        yield url
        return
    with throwaway_database(os.environ.get("ROTAGUARD_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)) as created:
        yield created


if __name__ == "__main__":
    sys.exit(main())
