"""Settings for the Budget Tracker API. Every environment-dependent value is read here.

See the README's configuration table; the contract (shared/api-contract.md) is binding.
"""

from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as default_cors_headers

from project import config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = config.secret_key(value=env.str("SECRET_KEY", default=""), debug=DEBUG)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "ninja",
    "ninja_jwt",
    "ninja_jwt.token_blacklist",
    # Management commands: migrate under a lock, wait_for_db (project/management/).
    "project",
    "users",
    "budgets",
    "project.idempotency",
]

MIDDLEWARE = [
    # Outermost: they see every answer, also those other middleware produce.
    "project.middleware.BodilessResponseMiddleware",
    "project.middleware.NoStoreMiddleware",
    "project.middleware.RequestIdMiddleware",
    "project.middleware.ContentLengthMiddleware",
    "project.middleware.JsonErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Before CommonMiddleware validates the Host header: healthchecks on 127.0.0.1 work
    # whatever ALLOWED_HOSTS says.
    "project.middleware.LivenessMiddleware",
    # Sessions, CSRF, request.user and messages: for the admin only, skipped under /api/
    # (bearer tokens, CSRF-exempt views; see project/admin_middleware.py).
    "project.admin_middleware.AdminSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "project.admin_middleware.AdminCsrfViewMiddleware",
    "project.admin_middleware.AdminAuthenticationMiddleware",
    "project.admin_middleware.AdminMessageMiddleware",
    # Innermost: wraps the view in the transaction that also stores the key's answer,
    # so replays pass through every other middleware like first answers do.
    "project.idempotency.middleware.IdempotencyMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": config.database(
        url=env.str("DATABASE_URL", default=""),
        base_dir=BASE_DIR,
        connect_timeout=env.int("DB_CONNECT_TIMEOUT", default=3),
        statement_timeout=env.float("DB_STATEMENT_TIMEOUT", default=10),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": config.cache(env.str("CACHE_URL", default=""))}
config.refuse_placeholder_passwords(
    debug=DEBUG,
    DATABASE_URL=env.str("DATABASE_URL", default=""),
    CACHE_URL=env.str("CACHE_URL", default=""),
)

AUTH_USER_MODEL = "users.User"
# New hashes: Argon2id. The others only verify existing hashes (Django's earlier defaults);
# a user whose hash is not Argon2id with the current parameters is re-hashed at log-in.
PASSWORD_HASHERS = [
    "users.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Serve straight from the app directories when collectstatic has not been run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_MANIFEST_STRICT = False

# --- API behaviour -----------------------------------------------------------------

# Request bodies above this size are refused with 413 before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_BODY_BYTES", default=64 * 1024)
# The CSV import (POST /api/transactions/import/) has its own limits: the file's size
# (multipart bodies are allowed this much on that route only) and its number of rows.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=100_000)
# Recurring occurrences posted for the caller before a read, at most (the rest on the
# next reads, or by `manage.py post_recurring`).
RECURRING_POST_PER_REQUEST = env.int("RECURRING_POST_PER_REQUEST", default=100)
APPEND_SLASH = False

NINJA_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("ACCESS_TOKEN_LIFETIME", default=900)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("REFRESH_TOKEN_LIFETIME", default=604800)),
    # Opt-in: each refresh returns a new refresh token and blacklists the old one; an old
    # one presented again ends every session of its user (users/services.py).
    "ROTATE_REFRESH_TOKENS": env.bool("ROTATE_REFRESH_TOKENS", default=False),
    "BLACKLIST_AFTER_ROTATION": env.bool("ROTATE_REFRESH_TOKENS", default=False),
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": SECRET_KEY,
    "ALGORITHM": "HS256",
}

AUTH_RATE_LIMIT = config.rate_limit(env.str("AUTH_RATE_LIMIT", default="20/min"))
# How many reverse proxies in front of the app append to X-Forwarded-For. 0 means
# the client IP for rate limits is REMOTE_ADDR and X-Forwarded-For is ignored, so
# a client cannot dodge the limit by inventing that header.
NINJA_NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# How long the answer to a request with an Idempotency-Key is kept (seconds).
IDEMPOTENCY_KEY_TTL = env.int("IDEMPOTENCY_KEY_TTL", default=24 * 60 * 60)
# Largest body of a POST sent with an Idempotency-Key (it is fingerprinted; larger: 413).
# Default: the largest body a route accepts (the CSV import's file plus the form fields).
IDEMPOTENCY_MAX_BODY_BYTES = env.int(
    "IDEMPOTENCY_MAX_BODY_BYTES", default=IMPORT_MAX_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE
)

# --- CORS and security headers -------------------------------------------------------

CORS_ALLOWED_ORIGINS = env.list(
    "CORS_ALLOWED_ORIGINS",
    default=["http://localhost:5173", "http://127.0.0.1:5173", "http://localhost:3000"],
)
CORS_EXPOSE_HEADERS = [
    "Retry-After",
    "Content-Disposition",
    "X-Request-ID",
    "ETag",
    "Idempotent-Replayed",
]
CORS_ALLOW_HEADERS = (*default_cors_headers, "idempotency-key", "if-match", "if-none-match")

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Logging -------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "project.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
