# RotaGuard's image for docker-compose.yml: `rotaguard serve` (registers the deployments and runs
# their flow runs). The Python and Prefect versions must match docker-compose.yml's Prefect server
# image and pyproject.toml's prefect pin (tests/deployments/test_compose.py checks them).
#
# bookworm's postgresql-client is 15, the same major as the postgres:15 service: the backup
# engine needs pg_dump/pg_restore at least as new as the server.
FROM python:3.11-slim-bookworm

# The Prefect server image is prefecthq/prefect:<this>-python3.11: client and server run the same Prefect.
ARG PREFECT_VERSION=3.8.8

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ROTAGUARD_HOME=/var/lib/rotaguard \
    ROTAGUARD_BACKUP_DIR=/var/backups/rotaguard

RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . /app
RUN pip install . "prefect==${PREFECT_VERSION}"

# A non-root user; its home and backup directories exist in the image so that fresh named
# volumes mounted there start owned by it.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/rotaguard rotaguard \
    && mkdir -p "$ROTAGUARD_HOME" "$ROTAGUARD_BACKUP_DIR" \
    && chown rotaguard:rotaguard "$ROTAGUARD_HOME" "$ROTAGUARD_BACKUP_DIR"
USER rotaguard
WORKDIR /var/lib/rotaguard

CMD ["rotaguard", "serve"]
