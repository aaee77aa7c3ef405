"""A generation's and a year plan's approval, answered in the real Prefect UI by a headless Chromium,
on SQLite and PostgreSQL.

`rotaguard generate` (or `rotaguard plan --year`; no --yes, stdin not a terminal) runs against a real
`prefect server start`, prints the run's UI address and waits. The browser opens that page, presses
**Resume**, fills the Approval form and submits; the CLI must then finish with what the browser typed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the chromium_path fixture skips (or fails under CI) with the reason
    expect = None
from e2e_processes import rotaguard_environment, stop_process_group

from factories import program_document
from rotaguard.db import AssignmentRepository, AuditLog, Database
from rotaguard.db.tables import ScheduleRunRow
from rotaguard.interchange.document import parse_document
from rotaguard.interchange.importer import import_document

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium_path")]

START = dt.date(2026, 3, 12)
END = dt.date(2026, 3, 14)
APPROVER = "C-01"  # the fixture program's coordinator (a staff id: the authorization matrix)
WAITING = re.compile(
    r"rotaguard: waiting for approval in the Prefect UI: (?P<url>\S+/runs/flow-run/(?P<id>[0-9a-f-]{36}))"
)
PAUSE_SECONDS = 120  # the CLI's start-up, backup, health and data checks until it prints the address
FINISH_SECONDS = 180  # solve, write, validate and publish after the answer
UI_TIMEOUT_MS = 30_000


def _seed(database_url: str) -> None:
    document = program_document()
    document["rotations"][1]["residents"]["min"] = 0  # solvable: the schedule publishes
    database = Database(database_url)
    try:
        import_document(database, parse_document(json.dumps(document)), actor="test", source="factory")
    finally:
        database.dispose()


def _digest(database_url: str) -> str:
    database = Database(database_url)
    try:
        with database.read() as session:
            return AssignmentRepository(session).digest(start=START, end=END)
    finally:
        database.dispose()


def _run_row_and_approval(database_url: str, run_id: str, action: str = "schedule.approval"):
    database = Database(database_url)
    try:
        with database.read() as session:
            row = session.get(ScheduleRunRow, run_id)
            approvals = [e for e in AuditLog(session).events() if e.action == action and e.subject == run_id]
            return (row.status, row.approved_by), [(e.actor, e.details) for e in approvals]
    finally:
        database.dispose()


def _prefect(api_url: str):
    from prefect.client.orchestration import SyncPrefectClient

    return SyncPrefectClient(api=api_url)


def _state(api_url: str, flow_run_id: str):
    with _prefect(api_url) as client:
        return client.read_flow_run(uuid.UUID(flow_run_id)).state.type


def _wait_for_state(api_url: str, flow_run_id: str, wanted, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while (state := _state(api_url, flow_run_id)) is not wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"flow run {flow_run_id} is {state}, not {wanted}, after {seconds} s")
        time.sleep(0.5)


class Generation:
    """`rotaguard generate` as a subprocess; its output goes to files so no pipe can fill up."""

    def __init__(self, process: subprocess.Popen, stdout: Path, stderr: Path) -> None:
        self.process, self.stdout, self.stderr = process, stdout, stderr
        self.flow_run_id: str | None = None

    def err(self) -> str:
        return self.stderr.read_text(errors="replace")

    def wait_for_ui_address(self, seconds: float = PAUSE_SECONDS) -> str:
        deadline = time.monotonic() + seconds
        while (found := WAITING.search(self.err())) is None:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"rotaguard generate exited {self.process.returncode} before asking:\n{self.err()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"rotaguard generate printed no UI address in {seconds} s:\n{self.err()[-3000:]}")
            time.sleep(0.25)
        self.flow_run_id = found["id"]
        return found["url"]

    def finish(self, seconds: float = FINISH_SECONDS) -> tuple[int, str, str]:
        try:
            code = self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"rotaguard generate still running {seconds} s after the answer:\n{self.err()[-3000:]}"
            ) from None
        return code, self.stdout.read_text(), self.err()


GENERATE = ("generate", "--start", str(START), "--end", str(END), "--timeout", "30", "--approval-timeout", "600")


@contextlib.contextmanager
def generation(database_url: str, api_url: str, tmp_path: Path, command: tuple[str, ...] = GENERATE):
    """Start `rotaguard generate` (or ``command``) without --yes and stdin not a TTY; always leave
    nothing behind."""
    env = rotaguard_environment(database_url, api_url, tmp_path)
    rotaguard = Path(sys.executable).parent / "rotaguard"
    stdout, stderr = tmp_path / f"{command[0]}.out", tmp_path / f"{command[0]}.err"
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        process = subprocess.Popen(
            [str(rotaguard), *command, "--json"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    run = Generation(process, stdout, stderr)
    try:
        yield run
    finally:
        if process.poll() is None:
            _answer_and_stop(run, api_url)


def _answer_and_stop(run: Generation, api_url: str) -> None:
    """A test that failed mid-way: reject the paused run so the flow ends cleanly, else kill it and free its slot."""
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    if run.flow_run_id:
        with contextlib.suppress(Exception), _prefect(api_url) as client:
            client.resume_flow_run(
                uuid.UUID(run.flow_run_id),
                run_input={"approve": False, "approver": "test cleanup", "comment": "test failed"},
            )
        with contextlib.suppress(subprocess.TimeoutExpired):
            run.process.wait(timeout=60)
    if run.process.poll() is None:
        stop_process_group(run.process)
        # A killed holder's lease would block the next test's generation for up to a minute.
        with contextlib.suppress(Exception), _prefect(api_url) as client:
            client.update_global_concurrency_limit("schedule-writes", GlobalConcurrencyLimitUpdate(active_slots=0))


@contextlib.contextmanager
def run_page(browser, url: str):
    expect.set_options(timeout=UI_TIMEOUT_MS)
    context = browser.new_context(viewport={"width": 1280, "height": 960})
    try:
        page = context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        page.goto(url, wait_until="domcontentloaded")
        yield page
    finally:
        context.close()


def _open_resume_form(page, title: str = f"Approve schedule generation {START} .. {END}"):
    """Press the run page's Resume button; returns the dialog with the Approval form."""
    expect(page.get_by_text("Paused", exact=True).first).to_be_visible()
    page.get_by_role("button", name="Resume", exact=True).click()
    dialog = page.get_by_role("dialog").filter(has_text="Resume Flow Run")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text(title)).to_be_visible()
    return dialog


def _field(dialog, label: str):
    """One form property by its visible label (the UI's labels are not tied to their inputs)."""
    pattern = re.compile(rf"^{re.escape(label)}( \(Optional\))?$")
    return dialog.locator(".schema-form-property").filter(
        has=dialog.page.locator(".schema-form-property__label", has_text=pattern)
    )


def _set_approve(dialog, value: bool) -> None:
    switch = _field(dialog, "Approve").get_by_role("switch")
    if (switch.get_attribute("aria-checked") == "true") != value:
        switch.click()
    expect(switch).to_have_attribute("aria-checked", "true" if value else "false")


def _fill(dialog, label: str, text: str) -> None:
    box = _field(dialog, label).get_by_role("textbox")
    box.fill(text)
    expect(box).to_have_value(text)


def _submit_until_answered(dialog, api_url: str, flow_run_id: str) -> None:
    """Submit a valid answer right after the server refused one. Under load the form has once kept
    the dialog open with the run still paused (the click landed while the refusal was still being
    shown); a second Submit is then the person trying again. An answer the server took closes it."""
    from prefect.client.schemas.objects import StateType

    submit = dialog.get_by_role("button", name="Submit", exact=True)
    submit.click()
    try:
        expect(dialog).to_be_hidden(timeout=15_000)
    except AssertionError:
        assert _state(api_url, flow_run_id) is StateType.PAUSED  # nothing was taken: try again
        submit.click()
    expect(dialog).to_be_hidden()


def _keep_screenshot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path))
    if target := os.environ.get("ROTAGUARD_SCREENSHOT_DIR"):
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / name)
    return path


def test_approval_in_the_prefect_ui_publishes_as_the_person_who_typed_it(
    browser, prefect_server, database_url, db_kind, tmp_path
):
    from prefect.client.schemas.objects import StateType

    _seed(database_url)
    comment = "Backup and counts checked in the Prefect UI"
    with generation(database_url, prefect_server, tmp_path) as run:
        url = run.wait_for_ui_address()
        assert url == f"{prefect_server.removesuffix('/api')}/runs/flow-run/{run.flow_run_id}"
        _wait_for_state(prefect_server, run.flow_run_id, StateType.PAUSED)
        with run_page(browser, url) as page:
            dialog = _open_resume_form(page)
            _set_approve(dialog, True)
            _fill(dialog, "Approver", APPROVER)
            _fill(dialog, "Comment", comment)
            shot = _keep_screenshot(page, tmp_path, f"approval-form-{db_kind}.png")
            assert shot.stat().st_size > 10_000
            dialog.get_by_role("button", name="Submit", exact=True).click()
            expect(dialog).to_be_hidden()
        code, out, err = run.finish()
    assert code == 0, err[-3000:]
    outcome = json.loads(out)
    assert outcome["status"] == "published", outcome
    assert outcome["flow_run_id"] == run.flow_run_id
    (status, approved_by), approvals = _run_row_and_approval(database_url, outcome["run_id"])
    assert (status, approved_by) == ("published", APPROVER)
    assert approvals == [(APPROVER, {"approved": True, "comment": comment})]
    _wait_for_state(prefect_server, run.flow_run_id, StateType.COMPLETED)


def test_the_ui_form_refuses_a_blank_approver_and_the_run_stays_paused(browser, prefect_server, database_url, tmp_path):
    from prefect.client.schemas.objects import StateType

    _seed(database_url)
    before = _digest(database_url)
    with generation(database_url, prefect_server, tmp_path) as run:
        url = run.wait_for_ui_address()
        _wait_for_state(prefect_server, run.flow_run_id, StateType.PAUSED)
        with run_page(browser, url) as page:
            dialog = _open_resume_form(page)
            _set_approve(dialog, True)
            # Nothing typed: the form itself refuses and says why.
            dialog.get_by_role("button", name="Submit", exact=True).click()
            expect(
                _field(dialog, "Approver").get_by_text(re.compile("approver.*required", re.IGNORECASE))
            ).to_be_visible()
            expect(dialog).to_be_visible()
            assert _state(prefect_server, run.flow_run_id) is StateType.PAUSED
            # Only blanks: the server checks the Approval schema and refuses the resume.
            _fill(dialog, "Approver", "   ")
            dialog.get_by_role("button", name="Submit", exact=True).click()
            expect(page.get_by_text(re.compile(r"Validation failed for field 'approver'")).first).to_be_visible()
            expect(dialog).to_be_visible()
            assert _state(prefect_server, run.flow_run_id) is StateType.PAUSED
            assert run.process.poll() is None
            # A real answer ends it: a rejection by name, through the same form.
            _set_approve(dialog, False)
            _fill(dialog, "Approver", APPROVER)
            _fill(dialog, "Comment", "Not this week")
            _submit_until_answered(dialog, prefect_server, run.flow_run_id)
        code, out, err = run.finish()
    assert code == 1, err[-3000:]
    outcome = json.loads(out)
    assert (outcome["status"], outcome["reason"]) == ("rejected", f"rejected by {APPROVER}")
    (status, approved_by), approvals = _run_row_and_approval(database_url, outcome["run_id"])
    assert (status, approved_by) == ("rejected", APPROVER)
    assert approvals == [(APPROVER, {"approved": False, "comment": "Not this week"})]
    assert _digest(database_url) == before


def test_a_year_plan_approved_in_the_prefect_ui_shows_its_requirements_and_publishes(
    browser, prefect_server, database_url, db_kind, tmp_path
):
    from prefect.client.schemas.objects import StateType

    from year_plans import LABEL, YEAR, block_span, plan_rows, store_program, stored, year_program

    database = Database(database_url)
    try:
        store_program(database, year_program())
        before = plan_rows(database)
    finally:
        database.dispose()
    # Blocks 12..13 only: a plan the planner proves at once (the form is the same for the whole year).
    command = ("plan", "--year", str(YEAR), "--from-block", "12", "--timeout", "5", "--approval-timeout", "600")
    with generation(database_url, prefect_server, tmp_path, command) as run:
        url = run.wait_for_ui_address()
        _wait_for_state(prefect_server, run.flow_run_id, StateType.PAUSED)
        with run_page(browser, url) as page:
            dialog = _open_resume_form(page, f"Approve the year plan {LABEL} ({YEAR}), blocks 12..13")
            # The requirement table and what would be replaced, as the approver reads them.
            expect(dialog.get_by_role("cell", name="ICU").first).to_be_visible()
            expect(
                dialog.get_by_text(re.compile(r"\d+ rotation plan rows from block 12 on will be replaced"))
            ).to_be_visible()
            _set_approve(dialog, True)
            _fill(dialog, "Approver", APPROVER)
            _fill(dialog, "Comment", "Curriculum table checked")
            _keep_screenshot(page, tmp_path, f"plan-approval-form-{db_kind}.png")
            _submit_until_answered(dialog, prefect_server, run.flow_run_id)
        code, out, err = run.finish()
    assert code == 0, err[-3000:]
    outcome = json.loads(out)
    assert outcome["status"] == "published" and outcome["flow_run_id"] == run.flow_run_id, outcome
    (status, approved_by), approvals = _run_row_and_approval(database_url, outcome["run_id"], "plan.approval")
    assert (status, approved_by) == ("published", APPROVER)
    assert approvals == [(APPROVER, {"approved": True, "comment": "Curriculum table checked"})]
    database = Database(database_url)
    try:
        program = stored(database)
        first = block_span(program, 12, 12)[0]
        # Blocks 12..13 written by this run (the planner's rows), blocks 1..11 as they were.
        assert {e.source.value for e in program.plan if e.start >= first} == {"solver"}
        assert [r for r in plan_rows(database) if r[1] < first] == [r for r in before if r[1] < first]
    finally:
        database.dispose()
    _wait_for_state(prefect_server, run.flow_run_id, StateType.COMPLETED)
