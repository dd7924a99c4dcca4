"""Stored answers to requests sent with an ``Idempotency-Key`` header."""

from django.db import models


class IdempotencyKeyQuerySet(models.QuerySet):
    def expired(self, now) -> "IdempotencyKeyQuerySet":
        return self.filter(expires_at__lte=now)


class IdempotencyKey(models.Model):
    """One key of one client on one route, and the answer its first request got.

    ``digest`` (a hash of scope, path and key) is the unique lookup column: paths can be
    long and an index over raw text could overflow. The row is inserted before the
    request runs, in the same database transaction as the request's own writes, and
    filled in with the answer at the end; other transactions never see it half done.
    """

    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=80, help_text='"user:<id>", or "ip:<address>".')
    path = models.TextField()
    key = models.CharField(max_length=255)
    # HMAC of method, full path (with query string) and body: no secret from the body
    # (a password, say) can be recovered from it without the SECRET_KEY.
    fingerprint = models.CharField(max_length=64)
    # NULL only inside the transaction of the request that is still running.
    status = models.PositiveSmallIntegerField(null=True)
    # The answer's headers worth repeating (Content-Type, Location, ETag...), as sent.
    headers = models.JSONField(default=dict)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    objects = IdempotencyKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.scope} {self.path} {self.key}"
