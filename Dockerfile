# mailbot as a service. Build: docker build -t mailbot .
# Run:  docker run -v /srv/mailbot/config:/app/config:ro -v /srv/mailbot/storage:/app/storage \
#           -e MAILBOT_SECRET=... -e MAILBOT_IMAP_PASSWORD=... -e MAILBOT_SMTP_PASSWORD=... mailbot
# The steps below are the ones tests/integration/test_install.py runs in CI (no Docker engine there).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MAILBOT_CONFIG=/app/config/mailbot.yaml

RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin mailbot

WORKDIR /app
COPY pyproject.toml README.md ./
COPY mailbot ./mailbot
COPY templates ./templates
RUN pip install . && rm -rf /app/mailbot /app/build
COPY config/mailbot.example.yaml ./config/mailbot.example.yaml
RUN mkdir -p /app/storage && chown mailbot:mailbot /app/storage && chmod 0700 /app/storage

USER mailbot
VOLUME ["/app/config", "/app/storage"]

# `mailbot health` reads what the daemon wrote in its database (no network): exit 1 when a loop is stuck, the
# credentials are refused or mail has waited too long; `docker ps` then shows the container as unhealthy.
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 CMD ["mailbot", "health"]

# Creates or upgrades the database (idempotent), then runs the daemon; SIGTERM finishes the current message.
CMD ["sh", "-c", "mailbot db upgrade && exec mailbot run"]
