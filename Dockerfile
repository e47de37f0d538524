# The masking agent (python -m agent serve). HAProxy runs from the official image with the same
# haproxy/ files; see docker-compose.yml.
FROM python:3.11.7-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY agent ./agent
RUN pip install --no-cache-dir . && useradd --system --uid 10001 agent
USER agent
EXPOSE 12345
# Listens on all interfaces of the compose network only (the port is not published to the host).
CMD ["python", "-m", "agent", "serve", "--listen", "0.0.0.0:12345", "--allow-remote", "--key-file", "/keys/pseudonym.key"]
