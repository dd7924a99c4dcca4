"""Password hashing: Argon2id (Django's and OWASP's recommendation)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended configuration (Password Storage Cheat Sheet):
    19 MiB of memory, 2 passes, 1 lane.

    Django's own Argon2 defaults (100 MiB, 2 passes, 8 lanes) made one log-in slower than
    PBKDF2 on a 2-core machine; these keep OWASP's strength at a fraction of the cost. Hashes
    made with other parameters (or PBKDF2) still verify and are re-hashed with these at the
    user's next log-in.
    """

    time_cost = 2
    memory_cost = 19456  # KiB
    parallelism = 1
