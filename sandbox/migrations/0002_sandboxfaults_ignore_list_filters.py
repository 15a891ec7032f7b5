from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sandbox", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="sandboxfaults",
            name="ignore_list_filters",
            field=models.BooleanField(default=False),
        ),
    ]
