# The masking agent (python -m agent serve). HAProxy runs from the official image with the same
# haproxy/ files; see docker-compose.yml.
FROM python:3.11.7-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY agent ./agent
RUN pip install --no-cache-dir . && useradd --system --uid 10001 agent
# docker-compose.yml runs it as the host user that owns run/pseudonym.key (mode 0600) instead.
USER agent
EXPOSE 12345 9101 9100
# Listens on the compose network only (no port is published to the host). The supervisor runs the
# agent (one process per container: scale with more containers), restarts it if it dies and kills
# and replaces it if its event loop stalls past GATEWAY_MASK_TIMEOUT; metrics: agent 9101,
# supervisor 9100 (restarts by cause). `docker compose kill -s HUP agent` reloads the packs (the
# supervisor passes SIGHUP on).
CMD ["python", "-m", "agent", "supervise", "--processes", "1", "--agent-metrics-base", "0.0.0.0:9101", \
     "--metrics-listen", "0.0.0.0:9100", "--", \
     "--listen", "0.0.0.0:12345", "--allow-remote", "--key-file", "/keys/pseudonym.key"]
