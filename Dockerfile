# Budget Tracker API: production image (gunicorn + whitenoise, non-root).
#
#   docker build -t budget-tracker-api .
#   docker compose up --build            # the full stack, see docker-compose.yml
#
# Stage "build" makes a virtualenv with the runtime dependencies only (never the `dev`
# extra), at exactly the versions and hashes of uv.lock, and runs collectstatic; the
# final stage copies the venv and the app into a clean python:slim image and runs as an
# unprivileged user.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

# The uv that reads uv.lock; CI checks it is the version the lock itself pins.
ARG UV_VERSION=0.13.9

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# uv lives in the build stage only; the runtime image gets the venv it makes.
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when pyproject.toml or uv.lock
# change. --locked refuses to build when uv.lock no longer matches pyproject.toml
# (regenerate it with `uv lock`); the project itself is not installed (the code runs
# from /app).
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-install-project --no-dev --python /usr/local/bin/python3 \
    && uv pip check --python /opt/venv/bin/python

# The application (.dockerignore keeps .git, .venv, tests, databases, caches and .env out).
COPY . .

# collectstatic imports the settings, which require a SECRET_KEY with DEBUG off: this
# throwaway value exists for this one command and is not part of the image environment.
# The files stay owned by root and read-only for the app user (whatever the checkout's umask).
RUN DEBUG=false SECRET_KEY=collectstatic-build-step-only python manage.py collectstatic --noinput \
    && chmod -R a+rX,go-w /app \
    && chmod 0755 docker-entrypoint.sh

# ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=project.settings \
    DEBUG=false \
    PORT=8000

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app

WORKDIR /app
USER 10001:10001

EXPOSE 8000

# Liveness only (/up touches no database). slim has no curl: use the interpreter.
# Note: the Host header is 127.0.0.1, so ALLOWED_HOSTS must keep 127.0.0.1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/up' % os.environ.get('PORT', '8000'), timeout=4)"]

# Waits for the database, then execs gunicorn (PID 1, graceful on SIGTERM); migrates
# first only with MIGRATE_ON_START=true. `migrate` as the argument: wait, migrate, exit
# (the compose stack's one-shot `migrate` service). Any other arguments replace all that:
# `docker run IMAGE python manage.py createsuperuser`.
ENTRYPOINT ["/app/docker-entrypoint.sh"]
