"""Prefect deployments and concurrency limits (the operations issue).

``definitions`` builds the ten deployments (``generate-schedule``, ``validate-schedule``,
``request-swap``, ``execute-swap``, ``rollback-swap``, ``nightly-backup`` on its cron schedule,
``restore-backup``, ``bulk-assign``, ``plan-year``, ``clear-assignments``) with ``flow.to_deployment`` and serves
them (``rotaguard serve``); ``prefect.yaml`` at the repository root repeats them for
``prefect deploy``. ``limits`` makes sure of the ``schedule-writes`` global concurrency limit.
Nothing is imported here: importing a submodule must not import Prefect before the caller has
set PREFECT_HOME.
"""
