"""Test settings: the real settings plus speed-ups that only tests may use."""

from project.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests of the throttle set their own low rate; everything else must never hit it.
AUTH_RATE_LIMIT = "100000/min"
