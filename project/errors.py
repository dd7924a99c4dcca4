"""HTTP-free domain errors. Services raise these; ``project/api.py`` renders them."""

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
