# syndicate image: slim, non-root. One image for every process: the default command runs a
# worker; `api`, `scheduler`, `migrate` and `health` are other commands (see docker-compose.yml).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SYNDICATE_LOG_FORMAT=json \
    SYNDICATE_CONFIG=/app/config

WORKDIR /app
COPY pyproject.toml README.md ./
COPY syndicate ./syndicate
COPY adapters ./adapters
RUN pip install . && useradd --create-home --uid 10001 syndicate
COPY config ./config
COPY examples ./examples

USER syndicate
# 8000: the intake API; 9191: a worker's /metrics, /healthz and /readyz (--metrics-port).
EXPOSE 8000 9191
ENTRYPOINT ["syndicate"]
CMD ["worker"]
