"""The live solver progress line: rewritten in place on a terminal, sparse lines elsewhere."""

import io
import logging

from rotaguard.cli.progress import progress_text, solver_progress_line
from rotaguard.solver import Progress

# A logger of our own: Prefect's run loggers would try to ship these records to its API.
LOGGER = "rotaguard.test.progress"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _log(progress: Progress) -> None:
    logging.getLogger(LOGGER).info("solver progress", extra={"progress": progress})


def test_progress_text_shows_objective_bound_gap_and_time():
    assert progress_text(Progress(objective=1200, best_bound=900, elapsed_seconds=3.25)) == (
        "solving: objective 1200, bound 900, gap 25.0%, 3.2 s"
    )
    assert "gap 0.0%" in progress_text(Progress(objective=0, best_bound=0, elapsed_seconds=1))
    # Which priority is being solved, when the solver says.
    assert progress_text(Progress(objective=12000, best_bound=12000, elapsed_seconds=4, level="staffing")) == (
        "solving: objective 12000, bound 12000, gap 0.0% on staffing, 4.0 s"
    )


def test_a_terminal_gets_one_line_rewritten_in_place(caplog):
    stream = Terminal()
    caplog.set_level(logging.INFO, logger=LOGGER)
    with solver_progress_line("progress", stream, logger_name=LOGGER):
        _log(Progress(objective=30, best_bound=10, elapsed_seconds=1))
        _log(Progress(objective=20, best_bound=10, elapsed_seconds=2))
        logging.getLogger(LOGGER).info("an unrelated message")
    text = stream.getvalue()
    assert text.count("\r\x1b[2K") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "objective 20, bound 10, gap 50.0%, 2.0 s" in text and "unrelated" not in text


def test_elsewhere_updates_are_sparse_lines_and_the_handler_is_removed(caplog):
    stream = io.StringIO()
    caplog.set_level(logging.INFO, logger=LOGGER)
    with solver_progress_line("progress", stream, logger_name=LOGGER):
        for second in range(5):
            _log(Progress(objective=100 - second, best_bound=50, elapsed_seconds=second))
    _log(Progress(objective=1, best_bound=1, elapsed_seconds=9))
    lines = stream.getvalue().splitlines()
    assert lines == ["solving: objective 100, bound 50, gap 50.0%, 0.0 s"]


def test_the_planner_s_sentences_get_the_same_line(caplog):
    from rotaguard.cli.plan import planner_progress_text

    stream = Terminal()
    caplog.set_level(logging.INFO, logger=LOGGER)
    with solver_progress_line("plan", stream, logger_name=LOGGER, describe=planner_progress_text):
        logging.getLogger(LOGGER).info("planner", extra={"plan": "plan: plan with objective 74, bound 22 at 1.9 s"})
    assert stream.getvalue() == "\r\x1b[2Kplanning: plan: plan with objective 74, bound 22 at 1.9 s\n"
