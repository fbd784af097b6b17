# syntax=docker/dockerfile:1
# One image for the four services. Pick the service with SERVICE (default intake) or a command:
#   docker run -e SERVICE=routing fieldreports        docker run fieldreports python -m services.notify
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: the locked environment, without development dependencies
FROM ${PYTHON_IMAGE} AS build
RUN pip install --no-cache-dir "uv==0.13.9"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /src
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# ---- runtime: slim, non-root, only the venv and the code
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY shared/ shared/
COPY services/ services/
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HTTP_HOST=0.0.0.0 \
    SERVICE=intake
USER 10001:10001
EXPOSE 8001 8002 8003 8004
# Liveness only (the process answers); readiness (Kafka + MongoDB) is for orchestrators' probes.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request as u; p = os.environ.get('HTTP_PORT') or {'intake': '8001', 'routing': '8002', 'notify': '8003', 'analytics': '8004'}[os.environ['SERVICE']]; u.urlopen('http://127.0.0.1:' + p + '/health/live', timeout=4)"
# exec: the service is PID 1 and receives SIGTERM for its graceful shutdown.
CMD ["sh", "-c", "exec python -m \"services.${SERVICE}\""]
