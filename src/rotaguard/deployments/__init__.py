"""Prefect deployments, cron schedules and concurrency limits (filled by the operations issue).

``rotaguard serve`` and ``prefect.yaml`` register the flows with bounded parameters; the
``schedule-writes`` global concurrency limit is created at start when missing.
"""
