# syntax=docker/dockerfile:1
# opensearch-backups-bot: `docker build -t backups-bot .`, then
#   docker run --env-file .env -p 3000:3000 -v backups-bot-data:/data backups-bot
# Both stages use the same base image, so the venv's interpreter symlinks resolve in the final one.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# --- builder: the project's wheel and the pinned dependencies, in a venv -------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
RUN python -m venv /opt/venv

# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --no-cache-dir --requirement requirements.lock

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
# --no-deps: every dependency comes from the lock file, none is resolved afresh.
RUN /opt/venv/bin/pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/pip install --no-cache-dir --no-deps /wheels/*.whl \
    && /opt/venv/bin/python -m pip uninstall --yes setuptools \
    && /opt/venv/bin/pip check \
    && /opt/venv/bin/python -m pip uninstall --yes pip

# --- runtime: the venv only, as an unprivileged user -----------------------------------------------
FROM ${PYTHON_IMAGE}

LABEL org.opencontainers.image.title="opensearch-backups-bot" \
      org.opencontainers.image.description="Slack chat-ops bot for Yandex Cloud Managed OpenSearch backups" \
      org.opencontainers.image.licenses="Apache-2.0"

# A fixed numeric UID/GID, so Kubernetes runAsNonRoot can verify it and volumes can be chowned.
RUN groupadd --system --gid 10001 backups-bot \
    && useradd --system --no-log-init --uid 10001 --gid 10001 --home-dir /data \
       --no-create-home --shell /usr/sbin/nologin backups-bot \
    && mkdir -p /data \
    && chown 10001:10001 /data

COPY --from=builder /opt/venv /opt/venv

ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=3000 \
    DATABASE_URL=sqlite+aiosqlite:////data/backups-bot.db

# SQLite lives here; mount a volume to keep alert state across restarts.
WORKDIR /data
USER 10001:10001
EXPOSE 3000

# slim has no curl; Python's urllib is enough. Any non-2xx or no answer fails the check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

ENTRYPOINT ["backups-bot"]
CMD ["serve"]
