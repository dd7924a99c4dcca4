import unicodedata

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from ninja_jwt.token_blacklist.models import OutstandingToken

from users import messages


def identity_key(value: str) -> str:
    """What makes two usernames (or two e-mail addresses) the same account.

    Unicode compatibility caseless matching, NFKC(casefold(NFKC(value))): ``Straße`` =
    ``STRASSE``, final sigma U+03C2 = sigma U+03C3 = capital sigma, the ligature U+FB01 =
    ``fi``, fullwidth letters = ASCII ones. Plus the Turkic i's, which case folding keeps
    apart: dotless i (U+0131) and capital I with dot (U+0130) are the same as ``i`` and
    ``I``, so a name with a dotless i cannot pass for the same name with a plain i. The
    key is stored and the unique constraints are on it, so the "already taken" checks,
    the constraints and the log-in lookup can never disagree, on SQLite or PostgreSQL.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    return folded.replace("i\u0307", "i").replace("\u0131", "i")


class CaseInsensitiveUserManager(UserManager):
    def get_by_natural_key(self, username):
        # Log-in looks the user up by the same key the unique constraint is on; first()
        # rather than get(): whatever the data, a log-in can never raise on duplicates.
        user = None
        if isinstance(username, str):
            user = self.filter(username_key=identity_key(username)).order_by("pk").first()
        if user is None:
            raise self.model.DoesNotExist("No user with that username.")
        return user


class User(AbstractUser):
    """The account. Usernames and non-empty e-mails are unique by ``identity_key``.

    ``username_key`` and ``email_key`` are derived on every save (API, admin, shell);
    the database enforces uniqueness on them. ``email_key`` is ``""`` when there is no
    e-mail (accounts made with ``createsuperuser`` may have none).
    """

    username_key = models.TextField(editable=False)
    email_key = models.TextField(editable=False, blank=True, default="")

    objects = CaseInsensitiveUserManager()

    # The earliest day one of the user's recurring rules falls due with an occurrence
    # not posted yet (null: none will). A cache kept by the recurring services, never
    # later than the truth (earlier only costs one needless check). Authentication loads
    # the user row anyway, so reads learn "nothing is due" without a query.
    recurring_next_due = models.DateField(null=True, blank=True, editable=False)

    # Bumped to end every session at once (logout-all, password change, refresh token
    # reuse); tokens stamped with an older value are refused. See users/tokens.py.
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["username_key"], name="users_user_username_key_unique"),
            models.UniqueConstraint(
                fields=["email_key"],
                condition=~models.Q(email_key=""),
                name="users_user_email_key_unique",
            ),
        ]

    def _derive_keys(self) -> None:
        self.username_key = identity_key(self.username or "")
        self.email_key = identity_key(self.email) if self.email else ""

    def save(self, *args, **kwargs):
        self._derive_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            derived = {"username": "username_key", "email": "email_key"}
            kwargs["update_fields"] = {
                *update_fields,
                *(derived[f] for f in update_fields if f in derived),
            }
        super().save(*args, **kwargs)

    def clean(self):
        # For ModelForms (the admin): the keys are not form fields, so Django's own
        # constraint validation skips them; say "already exists" instead of a 500.
        super().clean()
        self._derive_keys()
        others = User.objects.exclude(pk=self.pk)
        errors = {}
        if self.username and others.filter(username_key=self.username_key).exists():
            errors["username"] = messages.USERNAME_TAKEN
        if self.email and others.filter(email_key=self.email_key).exists():
            errors["email"] = messages.EMAIL_TAKEN
        if errors:
            raise ValidationError(errors)


class RotatedRefreshToken(models.Model):
    """A refresh token that was exchanged for a new one (``ROTATE_REFRESH_TOKENS``).

    It is blacklisted too; this record says why, so that presenting it again is
    recognised as reuse (someone else holds a copy) rather than a stale logout.
    Deleted with its outstanding token (``flushexpiredtokens``).
    """

    token = models.OneToOneField(
        OutstandingToken, on_delete=models.CASCADE, primary_key=True, related_name="rotation"
    )
    rotated_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"rotated {self.token_id} at {self.rotated_at:%Y-%m-%d %H:%M:%S}"
