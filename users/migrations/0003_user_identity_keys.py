"""Store one folded key per username and e-mail and make the database unique on it.

Until now the "already taken" check folded case one way (``iexact``: SQLite's ASCII-only
LIKE, PostgreSQL's UPPER) and the unique constraints another (``LOWER``), so two accounts
could exist that log-in then could not tell apart (``ıvan``/``ivan``, ``ς``/``σ``).

Existing accounts that clash under the new key are kept, not merged or renamed: the
oldest one (by ``date_joined``, then id) gets the plain key and logs in as before; each
younger one gets ``<key>#<id>`` (``#`` never occurs in a real username's key nor after
the ``@`` of an e-mail's), which no log-in can match, and is listed in a warning. An
operator renames it (or changes its e-mail) in the admin; saving derives the key again.
"""  # noqa: RUF002 - the look-alike letters are the point

import logging

from django.db import migrations, models

from users.models import identity_key

logger = logging.getLogger("users.migrations")
BATCH = 1000


def derive_keys(apps, schema_editor):
    User = apps.get_model("users", "User")
    usernames: set[str] = set()
    emails: set[str] = set()
    batch = []
    users = User.objects.order_by("date_joined", "pk").only("pk", "username", "email")
    for user in users.iterator(chunk_size=BATCH):
        user.username_key = identity_key(user.username)
        if user.username_key in usernames:
            logger.warning(
                "User id %s: username %r clashes with an older account; it cannot log in "
                "by name until it is renamed.",
                user.pk,
                user.username,
            )
            user.username_key = f"{user.username_key}#{user.pk}"
        usernames.add(user.username_key)
        user.email_key = identity_key(user.email) if user.email else ""
        if user.email_key and user.email_key in emails:
            logger.warning(
                "User id %s: e-mail %r clashes with an older account; give it another one.",
                user.pk,
                user.email,
            )
            user.email_key = f"{user.email_key}#{user.pk}"
        emails.add(user.email_key)
        batch.append(user)
        if len(batch) >= BATCH:
            User.objects.bulk_update(batch, ["username_key", "email_key"])
            batch = []
    User.objects.bulk_update(batch, ["username_key", "email_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0002_user_recurring_next_due"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_key",
            field=models.TextField(default="", editable=False),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="user",
            name="email_key",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(derive_keys, migrations.RunPython.noop, elidable=False),
        migrations.RemoveConstraint(model_name="user", name="users_user_username_ci_unique"),
        migrations.RemoveConstraint(model_name="user", name="users_user_email_ci_unique"),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                fields=["username_key"], name="users_user_username_key_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                condition=models.Q(("email_key", ""), _negated=True),
                fields=["email_key"],
                name="users_user_email_key_unique",
            ),
        ),
    ]
