import re
import unicodedata

from ninja import Field
from pydantic import ConfigDict, field_validator

from project.schemas import OutSchema, Schema, strip_whitespace
from users import messages

USERNAME_MAX_LENGTH = 150
USERNAME_RE = re.compile(r"^[\w.@+-]+\Z")
# Published for clients and fuzzers; the server checks with Django's EmailValidator.
EMAIL = {"format": "email"}


class RegisterIn(Schema):
    username: str = Field(min_length=1, max_length=150, examples=["alice"])
    email: str = Field(
        min_length=1, max_length=254, examples=["alice@example.com"], json_schema_extra=EMAIL
    )
    password: str = Field(min_length=1, max_length=128)
    password_confirm: str = Field(min_length=1, max_length=128)

    _strip_names = field_validator("username", "email", mode="before")(strip_whitespace)

    @field_validator("username", mode="after")
    @classmethod
    def username_characters(cls, value: str) -> str:
        # Check what will be stored: Django normalises usernames with NFKC on save.
        value = unicodedata.normalize("NFKC", value)
        if len(value) > USERNAME_MAX_LENGTH:
            raise ValueError(f"Username must have at most {USERNAME_MAX_LENGTH} characters.")
        if not USERNAME_RE.match(value):
            raise ValueError(messages.USERNAME_INVALID)
        return value


class UserOut(OutSchema):
    id: int
    username: str
    email: str


class MeOut(OutSchema):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str


class MePatch(Schema):
    """Any subset; fields not sent are left alone. ``null`` is refused."""

    email: str = Field(None, min_length=1, max_length=254, json_schema_extra=EMAIL)
    first_name: str = Field(None, max_length=150)
    last_name: str = Field(None, max_length=150)

    _strip_all = field_validator("email", "first_name", "last_name", mode="before")(
        strip_whitespace
    )


class PasswordChangeIn(Schema):
    old_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)
    new_password_confirm: str = Field(min_length=1, max_length=128)


class LogoutIn(Schema):
    """Send ``refresh_token`` (or ``refresh``, accepted for compatibility)."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["refresh_token"]}, {"required": ["refresh"]}]}
    )

    refresh_token: str = Field(None, min_length=1, max_length=4096)
    refresh: str = Field(None, min_length=1, max_length=4096)


class TokenObtainIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=128)


class TokenPairOut(OutSchema):
    access: str
    refresh: str


class TokenRefreshIn(Schema):
    refresh: str = Field(min_length=1, max_length=4096)


class AccessOut(OutSchema):
    access: str
    refresh: str = Field(
        None,
        description=(
            "Only when the server rotates refresh tokens (`ROTATE_REFRESH_TOKENS=true`): "
            "the refresh token to use from now on."
        ),
    )


class TokenVerifyIn(Schema):
    token: str = Field(min_length=1, max_length=4096)


class EmptyOut(OutSchema):
    pass


class DetailOut(OutSchema):
    detail: str
