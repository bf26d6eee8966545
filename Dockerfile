# syndicate worker image: slim, non-root.
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
ENTRYPOINT ["syndicate"]
CMD ["worker"]
