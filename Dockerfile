# syntax=docker/dockerfile:1
# JIT: one image for `jit serve`, `jit worker` and `jit migrate` (docs/deploy.md).

# --- the console: built once, served by the API from /app/console --------------------
FROM node:20-slim AS console
WORKDIR /build/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
# codegen checks every GraphQL document against the committed schema.
COPY schema.graphql /build/schema.graphql
RUN npm run build

# --- the Python package, installed with the locked versions --------------------------
FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml requirements.lock README.md ./
COPY jit ./jit
COPY migrations ./migrations
RUN python -m venv /venv && /venv/bin/pip install -c requirements.lock .

# --- the runtime image -----------------------------------------------------------------
FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 \
    JIT_CONSOLE_DIR=/app/console JIT_HOST=0.0.0.0 JIT_PORT=8000 JIT_LOG_FORMAT=json
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=console /build/frontend/dist /app/console
USER nobody
# The API; a worker's metrics (JIT_WORKER_METRICS_PORT) conventionally on 9100.
EXPOSE 8000 9100
# Probes are per role (the API answers /healthz, a worker its metrics port): see
# docker-compose.yml.
CMD ["jit", "serve"]
