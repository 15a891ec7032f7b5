"""Deliveries name their subject generically (model label and id) and carry their sequencing key,
so the outbox knows no domain: orders and returns alike ride on it."""

from django.db import migrations, models


def subject_from_order(apps, schema_editor):
    Delivery = apps.get_model("outbox", "Delivery")
    for delivery in Delivery.objects.exclude(order_id=None).iterator():
        delivery.subject_type = "orders.order"
        delivery.subject_id = delivery.order_id
        delivery.sequence_key = f"{delivery.provider}:orders.order:{delivery.order_id}"
        # 35up calls build on each other; the upserts of the other providers do not.
        delivery.sequence_strict = delivery.provider == "35up"
        delivery.save(
            update_fields=["subject_type", "subject_id", "sequence_key", "sequence_strict"]
        )


def order_from_subject(apps, schema_editor):
    Delivery = apps.get_model("outbox", "Delivery")
    Delivery.objects.filter(subject_type="orders.order").update(order_id=models.F("subject_id"))


class Migration(migrations.Migration):
    dependencies = [("outbox", "0003_call_started_at")]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="subject_type",
            field=models.CharField(
                default="",
                help_text="Model label of what the call is about, e.g. orders.order.",
                max_length=64,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="delivery",
            name="subject_id",
            field=models.BigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="delivery",
            name="sequence_key",
            field=models.CharField(
                default="",
                help_text="Deliveries with the same key go out in the order written.",
                max_length=120,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="delivery",
            name="sequence_strict",
            field=models.BooleanField(
                default=False, help_text="Waits for earlier ones to be settled, not only sent."
            ),
        ),
        migrations.RunPython(subject_from_order, order_from_subject),
        migrations.RemoveIndex(model_name="delivery", name="delivery_order_idx"),
        migrations.RemoveField(model_name="delivery", name="order"),
        migrations.AlterField(
            model_name="delivery", name="provider", field=models.CharField(max_length=16)
        ),
        migrations.AlterField(
            model_name="delivery", name="operation", field=models.CharField(max_length=32)
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                fields=["subject_type", "subject_id", "provider", "id"],
                name="delivery_subject_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(fields=["sequence_key", "id"], name="delivery_sequence_idx"),
        ),
    ]
