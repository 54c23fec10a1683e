FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY jit ./jit
COPY migrations ./migrations
RUN pip install --no-cache-dir -c requirements.lock .
USER nobody
