import unicodedata

from django.db import migrations, models


def fill_name_keys(apps, schema_editor):
    Category = apps.get_model("budgets", "Category")
    for category in Category.objects.all().iterator():
        category.name_key = unicodedata.normalize("NFKC", category.name).casefold()
        category.save(update_fields=["name_key"])


class Migration(migrations.Migration):
    """Category uniqueness on a Unicode-casefolded key: SQLite's LOWER() folds ASCII only,
    so "Épicerie" and "épicerie" were two categories there."""

    dependencies = [
        ("budgets", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="name_key",
            field=models.CharField(default="", editable=False, max_length=300),
            preserve_default=False,
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="category",
            name="category_user_name_ci_unique",
        ),
        migrations.AddConstraint(
            model_name="category",
            constraint=models.UniqueConstraint(
                fields=("user", "name_key"), name="category_user_name_key_unique"
            ),
        ),
        migrations.AlterModelOptions(
            name="category",
            options={"ordering": ["name_key", "id"], "verbose_name_plural": "categories"},
        ),
    ]
