# syndicate image: slim, non-root. One image for every process: the default command runs a
# worker; `api`, `scheduler`, `migrate` and `health` are other commands (see docker-compose.yml).
#
# Reproducible: every dependency comes pinned from constraints.txt (regenerate with .ci/lock),
# installed in a layer of its own before the source is copied, so editing the code rebuilds only
# the last layers. No configuration is baked in: mount yours at /app/config (docker-compose.yml
# mounts ./config read-only).
FROM python:3.12-slim

# MALLOC_ARENA_MAX=2: a worker runs a dozen threads; glibc gives threads up to 8 malloc arenas per
# core, whose free space is returned late, so a long-running worker's RSS creeps up although what
# Python holds does not (docs/performance.md, "Memory").
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SYNDICATE_LOG_FORMAT=json \
    SYNDICATE_CONFIG=/app/config \
    SYNDICATE_OUTBOX=/var/lib/syndicate/outbox \
    SYNDICATE_MEDIA_CACHE=/var/lib/syndicate/media-cache

WORKDIR /app

# 1. Dependencies, pinned (this layer is rebuilt only when constraints.txt changes).
COPY constraints.txt ./
RUN pip install --no-deps -r constraints.txt

# 2. The project itself, without resolving anything again.
COPY pyproject.toml README.md ./
COPY syndicate ./syndicate
COPY adapters ./adapters
RUN pip install --no-deps --no-build-isolation . \
    && pip check \
    && useradd --create-home --uid 10001 syndicate \
    && mkdir -p /app/config /var/lib/syndicate/outbox \
    && chown -R syndicate /var/lib/syndicate

# A named volume mounted at /var/lib/syndicate (the outbox, the media cache) starts out owned by this user.
USER syndicate
# 8000: the intake API; 9191: a worker's /metrics, /healthz and /readyz (--metrics-port).
EXPOSE 8000 9191
ENTRYPOINT ["syndicate"]
CMD ["worker"]
