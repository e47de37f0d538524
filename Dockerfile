# The masking agent (python -m agent serve). HAProxy runs from the official image with the same
# haproxy/ files; see docker-compose.yml.
FROM python:3.11.7-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY agent ./agent
RUN pip install --no-cache-dir . && useradd --system --uid 10001 agent
# docker-compose.yml runs it as the host user that owns run/pseudonym.key (mode 0600) instead.
USER agent
EXPOSE 12345 9101
# Listens on the compose network only (neither port is published to the host). One process per
# container: scale with more containers; `docker compose kill -s HUP agent` reloads the packs.
CMD ["python", "-m", "agent", "serve", "--listen", "0.0.0.0:12345", "--allow-remote", \
     "--metrics-listen", "0.0.0.0:9101", "--key-file", "/keys/pseudonym.key"]
