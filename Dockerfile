# Budget Tracker API: production image (gunicorn + whitenoise, non-root).
#
#   docker build -t budget-tracker-api .
#   docker compose up --build            # the full stack, see docker-compose.yml
#
# Stage "build" makes a virtualenv with the runtime dependencies only (never the `dev`
# extra) and runs collectstatic; the final stage copies the venv and the app into a clean
# python:slim image and runs as an unprivileged user.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# A venv without pip/setuptools of its own: the base image's pip installs into it
# (`pip --python`), so the copied venv holds only the runtime packages.
RUN python -m venv --without-pip /opt/venv

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
# The runtime list is read from [project].dependencies; the project itself is not
# installed (the code runs from /app), so no package stubs are needed here.
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write('\n'.join(deps) + '\n')" \
    && pip --python /opt/venv/bin/python install --no-cache-dir -r /tmp/requirements.txt \
    && pip --python /opt/venv/bin/python check

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

# Waits for the database, migrates, then execs gunicorn (PID 1, graceful on SIGTERM).
# Any arguments replace that: `docker run IMAGE python manage.py createsuperuser`.
ENTRYPOINT ["/app/docker-entrypoint.sh"]
