from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations, models

# orderhub_fold (core.search) on PostgreSQL: unaccent() is only STABLE (its dictionary could
# change), so an IMMUTABLE wrapper names the dictionary; an index can then be built on it.
CREATE_FOLD = """
CREATE OR REPLACE FUNCTION orderhub_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$
"""
# The expression of orders.selectors.OrderSearchDocument, exactly: the planner matches it.
CREATE_SEARCH_INDEX = """
CREATE INDEX IF NOT EXISTS order_search_trgm_idx ON orders_order USING gin (
    orderhub_fold(
        reference || ' ' || first_name || ' ' || last_name || ' ' || email || ' '
        || COALESCE(thirtyfiveup_id, '')
    ) gin_trgm_ops
)
"""
DROP = [
    "DROP INDEX IF EXISTS order_search_trgm_idx",
    "DROP FUNCTION IF EXISTS orderhub_fold(text)",
]


def create_search_index(apps, schema_editor):
    # SQLite gets the function per connection (core.search) and searches without an index.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_FOLD)
        schema_editor.execute(CREATE_SEARCH_INDEX)


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0004_sync_order_index'),
    ]

    operations = [
        # Both are no-ops outside PostgreSQL.
        TrigramExtension(),
        UnaccentExtension(),
        migrations.RunPython(create_search_index, drop_search_index, elidable=False),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('status_unexpected', True)), fields=['id'], name='order_unexpected_idx'),
        ),
    ]
