# opensearch-backups-bot. `make image` builds it (podman or docker, whichever is there; see
# scripts/image), `make image-test` runs it. By hand: `docker build -t backups-bot .`, then
#   docker run --env-file .env -p 3000:3000 -v backups-bot-data:/data backups-bot
# No `# syntax=` line: the builder's own Dockerfile frontend is used, none is fetched from a
# registry. Both stages use the same base image, so the venv's interpreter symlinks resolve in
# the final one. The base is pinned by digest (python:3.11.13-slim-bookworm); `make image` with
# podman passes a Debian bookworm base made with debootstrap instead (--build-arg PYTHON_IMAGE).
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1

# --- builder: the project's wheel and the locked dependencies, in a venv -------------------------
FROM ${PYTHON_IMAGE} AS builder

# PIP_CERT: the base's CA bundle. A build host behind a TLS-intercepting proxy mounts its own
# bundle over that file for the build's RUN steps only (scripts/image); it is never in a layer,
# and this stage is not the image.
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
RUN python -m venv /opt/venv

# Dependencies first: this layer is rebuilt only when the lock changes. Every file is checked
# against the lock's sha256 and only wheels are taken (no compiler needed, no sdist run). The
# lock also holds the build backend (setuptools, wheel), so the wheel below is built with
# exactly those (--no-build-isolation: nothing is fetched for it).
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes --only-binary :all: \
    --requirement requirements.lock

# The sources before the README: a README edit (often) rebuilds only the small layer below,
# and the wheel layer after it.
COPY pyproject.toml setup.py ./
COPY bot ./bot
COPY handlers ./handlers
COPY README.md ./
# --no-deps: every dependency comes from the lock, none is resolved afresh.
RUN /opt/venv/bin/pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels . \
    && /opt/venv/bin/pip install --no-cache-dir --no-deps /wheels/*.whl \
    && /opt/venv/bin/python -m pip uninstall --yes setuptools wheel packaging \
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

# slim has no curl; Python's urllib is enough. Any non-2xx or no answer fails the check. Kept by
# podman and buildah only in the docker format (scripts/image builds with --format docker).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

ENTRYPOINT ["backups-bot"]
CMD ["serve"]
