"""Benchmark: what Prefect costs one `rotaguard swap execute` on the embedded default (no PREFECT_API_URL).

    .venv/bin/python bench/prefect_start.py [--repeat 3] [--residents 12] [--faculty 6] [--smoke]

A throwaway home (SQLite) holds a synthetic program whose next block the greedy solver fills, a
verified backup (so each execution reuses it), and one approved one-day swap per sample. Each
sample is one `python -m rotaguard swap execute ID --as ACTOR --json` in a fresh process, timed from
its start to its exit, in three ways, one after another in this run:

- ephemeral: ROTAGUARD_PREFECT_SERVER=ephemeral, Prefect's ephemeral API started inside the command
  (what every command paid before the local server);
- cold: the home's local Prefect server stopped first (`rotaguard stop`), so the command starts it;
- warm: the local server already running (the goal: at most 5 s).

Prints one table row per way (median, min and max of --repeat samples, and the median CPU time
the command's own processes used: on a busy machine the wall time is mostly waiting) and one JSON line
(``{"bench": "prefect_start", ...}``). ``--smoke`` runs one cold and one warm sample on a small
program (the bench scripts' test); the local server is stopped at the end either way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "ROTAGUARD_"))}
    return env | {
        "ROTAGUARD_HOME": str(home),
        "ROTAGUARD_DATABASE_URL": f"sqlite:///{home / 'rotaguard.db'}",
        **extra,
    }


def _rotaguard(env: dict[str, str], *args: str) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run one command: (wall seconds, CPU seconds of the command's own processes, the result)."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "rotaguard", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
    )
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"rotaguard {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return seconds, (after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime), done


def _prepare(home: Path, residents: int, faculty: int, swaps: int) -> list[tuple[str, str]]:
    """The program, its block, a verified backup and ``swaps`` approved swaps: (swap id, actor)."""
    os.environ.update(_env(home))
    from rotaguard.backups import BackupStore
    from rotaguard.db import AssignmentRepository, Database
    from rotaguard.db.migrate import upgrade
    from rotaguard.domain.swaps import DateRange, SwapKind, SwapStatus
    from rotaguard.interchange.importer import import_document
    from rotaguard.interchange.synth import next_block_start, synthesize
    from rotaguard.solver import ScheduleProblem, solve
    from rotaguard.swaps import SwapDenied, SwapRefused, SwapService

    start = next_block_start(dt.date.today() + dt.timedelta(days=7))
    end = start + dt.timedelta(days=27)
    document = synthesize(residents=residents, faculty=faculty, seed=1, start=start)
    database = Database(os.environ["ROTAGUARD_DATABASE_URL"])
    upgrade(database)
    import_document(database, document, actor="bench", source="synth")
    program = document.to_program()
    schedule = solve(ScheduleProblem(program=program, start=start, end=end), algorithm="greedy").schedule
    with database.write() as session:
        AssignmentRepository(session).upsert(assignments=list(schedule.assignments))
    coordinator = next(s.id for s in program.staff if s.role.value == "coordinator")
    residents_ids = {p.id for p in program.people if p.is_resident}
    service, approved, used = SwapService(database), [], set()
    for duty in sorted(schedule.assignments, key=lambda a: (a.date, a.person_id, a.slot)):
        if len(approved) == swaps:
            break
        if duty.person_id not in residents_ids or (duty.person_id, duty.date) in used or duty.date < start:
            continue
        try:
            asked = service.request(
                actor_id=duty.person_id,
                kind=SwapKind.ABSORB,
                person_a=duty.person_id,
                range_a=DateRange(start=duty.date, end=duty.date),
            )
            taker = next(c.person_id for c in asked.candidates if (c.person_id, duty.date) not in used)
            answered = service.answer(swap_id=asked.request.id, actor_id=taker, accept=True)
            if answered.request.status is SwapStatus.NEEDS_APPROVAL:
                answered = service.decide(swap_id=asked.request.id, actor_id=coordinator, approve=True)
        except (SwapRefused, SwapDenied, StopIteration):
            continue
        if answered.request.status is SwapStatus.APPROVED:
            approved.append((asked.request.id, duty.person_id))
            used |= {(duty.person_id, duty.date), (taker, duty.date)}
    BackupStore(database=database, directory=home / "backups", retention_days=30, min_keep=2).create(label="regular")
    database.dispose()
    if len(approved) < swaps:
        raise SystemExit(f"only {len(approved)} of {swaps} swaps could be approved: use a larger program")
    return approved


def _summary(samples: list[float], cpu: list[float]) -> dict:
    return {
        "median_s": round(statistics.median(samples), 2),
        "min_s": round(min(samples), 2),
        "max_s": round(max(samples), 2),
        "cpu_median_s": round(statistics.median(cpu), 2),
        "samples": [round(sample, 2) for sample in samples],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3, help="Samples per way (each its own swap).")
    parser.add_argument("--residents", type=int, default=12)
    parser.add_argument("--faculty", type=int, default=6)
    parser.add_argument("--smoke", action="store_true", help="One cold and one warm sample: the scripts' test.")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    ways = ("cold", "warm") if args.smoke else ("ephemeral", "cold", "warm")
    repeat = 1 if args.smoke else args.repeat
    home = Path(tempfile.mkdtemp(prefix="rotaguard-bench-prefect-"))
    swaps = iter(_prepare(home, args.residents, args.faculty, repeat * len(ways)))
    timings: dict[str, list[float]] = {way: [] for way in ways}
    cpu: dict[str, list[float]] = {way: [] for way in ways}
    load = os.getloadavg()[0]
    env = _env(home)
    try:
        for way in ways:
            for _ in range(repeat):
                swap_id, actor = next(swaps)
                if way == "cold":
                    _rotaguard(env, "stop")
                extra = {"ROTAGUARD_PREFECT_SERVER": "ephemeral"} if way == "ephemeral" else {}
                seconds, used, done = _rotaguard(
                    _env(home, **extra), "swap", "execute", swap_id, "--as", actor, "--json"
                )
                if json.loads(done.stdout)["status"] != "executed":
                    raise SystemExit(f"swap {swap_id} was not executed: {done.stdout}")
                timings[way].append(seconds)
                cpu[way].append(used)
    finally:
        subprocess.run([sys.executable, "-m", "rotaguard", "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(home, ignore_errors=True)
    results = {way: _summary(timings[way], cpu[way]) for way in ways}
    load = round(max(load, os.getloadavg()[0]), 1)
    command = "rotaguard swap execute ID --as ACTOR --json"
    print(f"{command}, SQLite, {repeat} each, load average up to {load} on {os.cpu_count()} CPUs")
    print(f"{'way':<10} {'median':>8} {'min':>8} {'max':>8} {'CPU':>8}  samples")
    for way, result in results.items():
        print(
            f"{way:<10} {result['median_s']:>7.2f}s {result['min_s']:>7.2f}s {result['max_s']:>7.2f}s "
            f"{result['cpu_median_s']:>7.2f}s  " + " ".join(f"{sample:.2f}" for sample in result["samples"])
        )
    document = {"bench": "prefect_start", "command": command, "repeat": repeat, "load": load, "results": results}
    print(json.dumps(document))


if __name__ == "__main__":
    main()
