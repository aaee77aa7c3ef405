"""``rotaguard swap``: request, rank, answer, approve, execute, roll back and list swaps."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rotaguard.cli.common import actor, parse_date, prefect_environment
from rotaguard.cli.context import load_settings, open_database, require_current_schema
from rotaguard.cli.output import JsonOption, console, emit_json, table
from rotaguard.domain.base import MAX_IDENTIFIER_LENGTH, is_identifier
from rotaguard.domain.swaps import DateRange, SwapKind, SwapStatus
from rotaguard.errors import InputError, Problem, RotaGuardError

# The swap service (and the compliance engine under it) is imported by the commands that use it:
# `rotaguard --help` and every other command start without it.
if TYPE_CHECKING:
    from rotaguard.swaps import SwapResult, SwapService
    from rotaguard.swaps.authorization import Action
    from rotaguard.swaps.candidates import Candidate

swap_app = typer.Typer(
    help="Swap duties between people: request, answer, approve, execute, roll back.", no_args_is_help=True
)


def _identifier(where: str, what: str) -> Callable[[typer.Context, str | None], str | None]:
    """A parameter callback: the value must be an identifier, as every id RotaGuard stores is (swap
    requests' UUIDs, people's and staff's ids). Anything else names nothing, and text that is not
    even UTF-8 (a lone surrogate from a mangled terminal) could not be looked up at all. Not
    checked while the shell completes a command line."""

    def check(ctx: typer.Context, value: str | None) -> str | None:
        if value is not None and not ctx.resilient_parsing and not is_identifier(value):
            rule = f"letters, digits, '-', '_' and '.', at most {MAX_IDENTIFIER_LENGTH}"
            raise InputError(where, [Problem(where, f"{value[:80]!r} is not {what} ({rule})")])
        return value

    return check


SwapId = Annotated[
    str, typer.Argument(help="The swap request's id.", callback=_identifier("SWAP_ID", "a swap request id"))
]
AsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Who acts: a person's or staff member's id (default: ROTAGUARD_ACTOR, else your login).",
        callback=_identifier("--as", "a person's or staff member's id"),
    ),
]
CommentOption = Annotated[str, typer.Option(help="A note kept in the audit log.")]
ANSWERED_FLOW_WAIT_SECONDS = 120


class RequestKind(StrEnum):
    ABSORB = "absorb"
    ONE_TO_ONE = "one-to-one"
    ONE_TO_ONE_AS_STORED = "one_to_one"  # the stored kind's spelling (README, the flow's parameters)


KINDS = {
    RequestKind.ABSORB: SwapKind.ABSORB,
    RequestKind.ONE_TO_ONE: SwapKind.ONE_TO_ONE,
    RequestKind.ONE_TO_ONE_AS_STORED: SwapKind.ONE_TO_ONE,
}


def _who(as_: str | None) -> str:
    return as_ or actor()


def _service() -> SwapService:
    from rotaguard.swaps import SwapService

    database = open_database(load_settings())
    require_current_schema(database)
    return SwapService(database)


def _range(option: str, start: str | None, end: str | None) -> DateRange | None:
    from pydantic import ValidationError

    if start is None and end is None:
        return None
    if start is None or end is None:
        raise InputError(option, [Problem(option, "give both the start and the end")])
    try:
        return DateRange(start=parse_date(f"{option}-start", start), end=parse_date(f"{option}-end", end))
    except ValidationError as exc:
        raise InputError(
            option, [Problem(option, exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, "))]
        ) from None


def _show(result: SwapResult, json_output: bool) -> None:
    if json_output:
        emit_json(result.as_dict())
        return
    console.print(result.message)
    _show_moves(result.as_dict()["moves"])
    _show_candidates(result.candidates)


def _show_moves(moves: list[dict[str, Any]]) -> None:
    """Who takes which duty: the rows of ``SwapResult.as_dict()["moves"]``."""
    if moves:
        console.print(
            table(
                "Moves",
                ["date", "slot", "rotation", "from", "to"],
                [[m["date"], m["slot"], m["rotation_id"], m["from"], m["to"]] for m in moves],
            )
        )


def _show_candidates(candidates: Iterable[Candidate]) -> None:
    if candidates:
        rows = [
            [
                c.person_id,
                c.name,
                f"{c.score:.3f}",
                *(f"{c.parts[k]:.2f}" for k in ("proximity", "same_rotation", "workload", "history")),
            ]
            for c in candidates
        ]
        console.print(
            table("Candidates", ["person", "name", "score", "proximity", "same rotation", "workload", "history"], rows)
        )


@swap_app.command("request")
def swap_request(
    person: Annotated[
        str, typer.Option(help="Whose duties move (person A).", callback=_identifier("--person", "a person's id"))
    ],
    start: Annotated[str, typer.Option(help="First day of A's duties to move (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last day, inclusive.")],
    with_: Annotated[
        str | None,
        typer.Option(
            "--with",
            help="Who takes them (person B); leave out to rank candidates.",
            callback=_identifier("--with", "a person's id"),
        ),
    ] = None,
    kind: Annotated[
        RequestKind,
        typer.Option(
            metavar="<absorb|one-to-one>",
            help="absorb (B takes them) or one-to-one (also one_to_one: B gives back --b-start..--b-end).",
        ),
    ] = RequestKind.ABSORB,
    b_start: Annotated[str | None, typer.Option(help="One-to-one: first day of B's duties that go to A.")] = None,
    b_end: Annotated[str | None, typer.Option(help="One-to-one: last day of them.")] = None,
    reason: Annotated[str, typer.Option(help="Why (kept with the request).")] = "",
    answer_within: Annotated[int, typer.Option(min=1, max=336, help="Hours person B has to answer.")] = 48,
    as_: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Ask for a swap; it waits for person B (or a ranked candidate) to accept."""
    from datetime import timedelta

    range_a = _range("--start/--end", start, end)
    range_b = _range("--b", b_start, b_end)
    result = _service().request(
        actor_id=_who(as_),
        kind=KINDS[kind],
        person_a=person,
        person_b=with_,
        range_a=range_a,
        range_b=range_b,
        reason=reason,
        answer_within=timedelta(hours=answer_within),
    )
    _show(result, json_output)


@swap_app.command("candidates")
def swap_candidates(swap_id: SwapId, as_: AsOption = None, json_output: JsonOption = False) -> None:
    """Rank up to 10 people who could take the request, with the parts of each score."""
    candidates = _service().candidates(swap_id=swap_id, actor_id=_who(as_))
    if json_output:
        emit_json({"ok": True, "id": swap_id, "candidates": [c.as_dict() for c in candidates]})
    elif candidates:
        _show_candidates(candidates)
    else:
        console.print("Nobody can take it without breaking a Tier 1 rule.")


def _resume_waiting_flow(
    service: SwapService,
    swap_id: str,
    actor_id: str,
    run_input: dict[str, Any],
    waiting_status: SwapStatus,
    *,
    action: Action,
    for_person: str | None = None,
) -> bool:
    """When a request-swap flow run is paused on this request, answer it there (it goes on by itself).

    Whether ``actor_id`` may do ``action`` is checked first, here: the run would refuse the answer
    only in its own log, and this command would wait for nothing."""
    request = service.get(swap_id=swap_id, actor_id=actor_id)
    flow_run_id = request.flow_run_id
    if not flow_run_id or request.status is not waiting_status:
        return False
    from uuid import UUID

    prefect_environment(load_settings())
    from prefect import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import resume_flow_run

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
        if state is None or state.type is not StateType.PAUSED:
            return False
    service.require(swap_id=swap_id, actor_id=actor_id, action=action, for_person=for_person)
    resume_flow_run(UUID(flow_run_id), run_input=run_input)
    deadline = time.monotonic() + ANSWERED_FLOW_WAIT_SECONDS
    while time.monotonic() < deadline and service.get(swap_id=swap_id, actor_id=actor_id).status is waiting_status:
        time.sleep(0.5)
    return True


def _answer(
    swap_id: str, as_: str | None, accept: bool, for_person: str | None, comment: str, json_output: bool
) -> None:
    from rotaguard.swaps.authorization import Action

    service = _service()
    actor_id = _who(as_)
    run_input = {"accept": accept, "answered_by": actor_id, "for_person": for_person, "comment": comment}
    action = Action.ACCEPT if accept else Action.DECLINE
    if _resume_waiting_flow(
        service, swap_id, actor_id, run_input, SwapStatus.PENDING, action=action, for_person=for_person
    ):
        _report_status(service, swap_id, actor_id, json_output)
        return
    _show(
        service.answer(swap_id=swap_id, actor_id=actor_id, accept=accept, for_person=for_person, comment=comment),
        json_output,
    )


def _report_status(service: SwapService, swap_id: str, actor_id: str, json_output: bool) -> None:
    from rotaguard.swaps.service import request_dict

    request = service.get(swap_id=swap_id, actor_id=actor_id)
    message = f"swap {swap_id} answered in its waiting flow run: now {request.status.value}"
    if json_output:
        emit_json(
            {
                "ok": True,
                "id": swap_id,
                "status": request.status.value,
                "message": message,
                "request": request_dict(request),
            }
        )
    else:
        console.print(message)


@swap_app.command("accept")
def swap_accept(
    swap_id: SwapId,
    for_: Annotated[
        str | None,
        typer.Option(
            "--for",
            help="Staff answering an open request: the person who takes it.",
            callback=_identifier("--for", "a person's id"),
        ),
    ] = None,
    comment: CommentOption = "",
    as_: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Person B (or staff for B) accepts; the swap is then validated on the tentative schedule."""
    _answer(swap_id, as_, True, for_, comment, json_output)


@swap_app.command("decline")
def swap_decline(
    swap_id: SwapId, comment: CommentOption = "", as_: AsOption = None, json_output: JsonOption = False
) -> None:
    """Person B (or staff for B) declines; nothing moves."""
    _answer(swap_id, as_, False, None, comment, json_output)


@swap_app.command("approve")
def swap_approve(
    swap_id: SwapId,
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead of approving.")] = False,
    comment: CommentOption = "",
    as_: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """A coordinator or admin decides a swap that needs approval (Tier 2 warnings, lost N-1)."""
    from rotaguard.swaps.authorization import Action

    service = _service()
    actor_id = _who(as_)
    run_input = {"approve": not reject, "decided_by": actor_id, "comment": comment}
    if _resume_waiting_flow(service, swap_id, actor_id, run_input, SwapStatus.NEEDS_APPROVAL, action=Action.APPROVE):
        _report_status(service, swap_id, actor_id, json_output)
        return
    _show(service.decide(swap_id=swap_id, actor_id=actor_id, approve=not reject, comment=comment), json_output)


def _run_flow(action: Action, swap_id: str, as_: str | None, json_output: bool) -> None:
    from pydantic import ValidationError

    from rotaguard.deployments.limits import ensure_concurrency_limit
    from rotaguard.flows.swap_actions import SwapActionParams
    from rotaguard.swaps.authorization import Action

    try:
        params = SwapActionParams(swap_id=swap_id, actor_id=_who(as_))
    except ValidationError as exc:
        item = exc.errors(include_url=False)[0]
        raise InputError(str(item["loc"][0]), [Problem(str(item["loc"][0]), item["msg"])]) from None
    settings = load_settings()
    service = _service()
    # An unknown swap or actor, or one the swap table refuses: one line, before any Prefect (and
    # before the flow's backup).
    service.get(swap_id=params.swap_id, actor_id=params.actor_id)
    service.require(swap_id=params.swap_id, actor_id=params.actor_id, action=action)
    prefect_environment(settings)
    ensure_concurrency_limit()
    if action is Action.EXECUTE:
        from rotaguard.flows.execute_swap import execute_swap as run
    else:
        from rotaguard.flows.rollback_swap import rollback_swap as run
    outcome = run(params)
    if json_output:
        emit_json({"ok": outcome.status != "refused", **outcome.model_dump(mode="json")})
    else:
        console.print(outcome.message)
        _show_moves(outcome.moves)
    if outcome.status == "refused":
        raise RotaGuardError(outcome.message)


@swap_app.command("execute")
def swap_execute(swap_id: SwapId, as_: AsOption = None, json_output: JsonOption = False) -> None:
    """Execute an approved swap through the execute-swap flow (backup, re-check, atomic move, e-mail)."""
    from rotaguard.swaps.authorization import Action

    _run_flow(Action.EXECUTE, swap_id, as_, json_output)


@swap_app.command("rollback")
def swap_rollback(swap_id: SwapId, as_: AsOption = None, json_output: JsonOption = False) -> None:
    """Roll an executed swap back within 24 hours, if its assignments are unchanged since."""
    from rotaguard.swaps.authorization import Action

    _run_flow(Action.ROLLBACK, swap_id, as_, json_output)


@swap_app.command("list")
def swap_list(
    status: Annotated[
        SwapStatus | None,
        typer.Option(metavar="<status>", help=f"Only this status: {', '.join(s.value for s in SwapStatus)}."),
    ] = None,
    as_: AsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Swap requests: all of them for staff, your own for residents and faculty."""
    from rotaguard.swaps.service import request_dict

    requests = _service().list(actor_id=_who(as_), status=status)
    if json_output:
        emit_json({"ok": True, "swaps": [request_dict(r) for r in requests]})
        return
    if not requests:
        console.print("No swap requests.")
    for r in requests:
        # One line per request: the id stays whole to copy, however narrow the terminal.
        back = f" for {r.range_b}" if r.range_b else ""
        console.print(
            f"{r.id}  {r.status.value:<14} {r.kind.value:<10} {r.person_a} -> {r.person_b or '(open)'}  {r.range_a}{back}"
        )
