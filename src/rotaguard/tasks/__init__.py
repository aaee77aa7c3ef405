"""Small verb_noun Prefect tasks adapting the pure layers (filled by the flow issues).

Retries only where a failure can be transient (database, disk, S3), never on a solve or a
validation; persisted results with explicit cache keys.
"""
