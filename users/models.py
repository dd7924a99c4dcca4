from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower


class CaseInsensitiveUserManager(UserManager):
    def get_by_natural_key(self, username):
        # Usernames are unique case-insensitively, so "Alice" logs in as "alice".
        return self.get(username__iexact=username)


class User(AbstractUser):
    """The account. Usernames and non-empty emails are unique regardless of case."""

    objects = CaseInsensitiveUserManager()

    # The earliest day one of the user's recurring rules falls due with an occurrence
    # not posted yet (null: none will). A cache kept by the recurring services, never
    # later than the truth (earlier only costs one needless check). Authentication loads
    # the user row anyway, so reads learn "nothing is due" without a query.
    recurring_next_due = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="users_user_username_ci_unique"),
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="users_user_email_ci_unique",
            ),
        ]
