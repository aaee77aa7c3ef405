"""A live solver progress line on stderr, fed by the generation flow's run log."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from rotaguard.solver import Progress

# The flow's tasks log through Prefect's run logger, whose records go up this logger.
TASK_RUN_LOGGER = "prefect.task_runs"
# Off a terminal each update is its own line, so keep them sparse.
PLAIN_INTERVAL_SECONDS = 2.0


def progress_text(progress: Progress) -> str:
    return (
        f"solving: objective {progress.objective:g}, bound {progress.best_bound:g}, "
        f"gap {100 * progress.gap:.1f}%{f' on {progress.level}' if progress.level else ''}, "
        f"{progress.elapsed_seconds:.1f} s"
    )


class ProgressLine(logging.Handler):
    """Rewrites one line in place on a terminal; elsewhere prints an update at most every 2 s."""

    def __init__(self, attribute: str, stream: TextIO, describe: Callable[[Any], str] = progress_text) -> None:
        super().__init__(level=logging.INFO)
        self.attribute = attribute
        self.describe = describe
        self.stream = stream
        self.live = stream.isatty()
        self.last_plain = float("-inf")
        self.shown = False

    def emit(self, record: logging.LogRecord) -> None:
        progress = getattr(record, self.attribute, None)
        if progress is None:
            return
        text = self.describe(progress)
        if self.live:
            self.stream.write(f"\r\x1b[2K{text}")
        elif time.monotonic() - self.last_plain >= PLAIN_INTERVAL_SECONDS:
            self.last_plain = time.monotonic()
            self.stream.write(f"{text}\n")
        else:
            return
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.live and self.shown:
            self.stream.write("\n")
            self.stream.flush()


@contextmanager
def solver_progress_line(
    attribute: str,
    stream: TextIO | None = None,
    *,
    logger_name: str = TASK_RUN_LOGGER,
    describe: Callable[[Any], str] = progress_text,
) -> Iterator[ProgressLine]:
    """Show the solver's (or, with its own ``describe``, the planner's) progress while the block runs."""
    handler = ProgressLine(attribute, stream or sys.stderr, describe)
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        handler.finish()
