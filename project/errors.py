"""HTTP-free domain errors. Services raise these; ``project/api.py`` renders them."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction

NOT_FOUND = "Not found."
INVALID_PAGE = "Invalid page."
NON_FIELD_ERRORS = "non_field_errors"


class NotFound(Exception):
    """The object does not exist for this user (missing or someone else's)."""

    def __init__(self, message: str = NOT_FOUND):
        self.message = message
        super().__init__(message)


class FieldError(Exception):
    """Input that the request alone could not reject: ``{field: [messages]}``."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(errors)

    @classmethod
    def single(cls, field: str, message: str) -> "FieldError":
        return cls({field: [message]})


class AuthFailed(Exception):
    """Credentials or a token were rejected (401)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


PRECONDITION_FAILED = (
    "The object has changed since you read it (If-Match does not name its current ETag)."
)


class PreconditionFailed(Exception):
    """The caller's copy of the object is stale (If-Match), so nothing was changed."""

    def __init__(self, message: str = PRECONDITION_FAILED):
        self.message = message
        super().__init__(message)


# A write service's optional ``precondition``: called with the object's current
# representation once its row is locked, it raises PreconditionFailed when the caller's
# copy is stale, before anything is written (see ``project.conditional``).
Precondition = Callable[[Any], None]


class DatabaseBusy(Exception):
    """A write kept losing to concurrent ones (deadlock or serialization failure) and
    was given up after a few tries: worth retrying a moment later (503)."""


@contextmanager
def constraint_as_field_error(error: FieldError | Callable[[], FieldError]) -> Iterator[None]:
    """Run a write in a savepoint; when a database constraint refuses it (a unique
    rule, typically a concurrent request that got there first), roll back to the
    savepoint and raise ``error`` (or what ``error()`` returns) instead.

        with constraint_as_field_error(FieldError.single("name", messages.CATEGORY_EXISTS)):
            category.save()
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        raise (error() if callable(error) else error) from exc
