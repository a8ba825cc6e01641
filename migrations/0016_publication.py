"""Published appeals (app.models.public.Publication): the redacted text an approver approved,
which is all the public side reads; on PostgreSQL a GIN index over its search bigrams."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from app.models.fields import GramsField, UtcDatetimeField

# The approvers' queue (app.services.publication.queue): answered appeals whose resident
# consented, never a report, oldest answer first; partial, as most appeals are neither.
PUBLISHABLE = ("CREATE INDEX IF NOT EXISTS appeal_publishable ON appeal (replied_at, id) "
               "WHERE is_public AND type <> 'report'")
GIN = ("CREATE INDEX IF NOT EXISTS publication_search_grams_gin "
       "ON publication USING gin (search_grams)")


async def _indexes(apps, editor) -> None:
    await editor.client.execute_script(PUBLISHABLE)
    if editor.client.capabilities.dialect == "postgres":
        await editor.client.execute_script(GIN)


async def _drop_indexes(apps, editor) -> None:
    await editor.client.execute_script("DROP INDEX IF EXISTS appeal_publishable")
    if editor.client.capabilities.dialect == "postgres":
        await editor.client.execute_script("DROP INDEX IF EXISTS publication_search_grams_gin")


def _fk(model: str, column: str, related: str, *, null: bool = False):
    return fields.ForeignKeyField(model, source_field=column, null=null, db_constraint=True,
                                  to_field='id', related_name=related,
                                  on_delete=OnDelete.RESTRICT)


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0015_templates')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Publication',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True,
                                          db_index=True)),
                ('appeal', fields.OneToOneField(
                    'minsheng.Appeal', source_field='appeal_id', db_constraint=True,
                    to_field='id', related_name='publication', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharField(max_length=12)),
                ('title', fields.CharField(max_length=100)),
                ('question', fields.TextField(unique=False)),
                ('reply', fields.TextField(unique=False)),
                ('type', fields.CharField(max_length=16)),
                ('department', _fk('minsheng.Department', 'department_id', 'publications',
                                   null=True)),
                ('region', _fk('minsheng.Region', 'region_id', 'publications')),
                ('category', _fk('minsheng.Category', 'category_id', 'publications',
                                 null=True)),
                ('submitted_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('replied_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('approved_by', _fk('minsheng.Account', 'approved_by_id', 'publications',
                                    null=True)),
                ('approver_label', fields.CharField(default='', max_length=80)),
                ('updated_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('search_grams', GramsField(default='')),
            ],
            options={'table': 'publication', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddIndex(model_name='Publication', index=Index(fields=['status', 'id'])),
        ops.AddIndex(model_name='Publication',
                     index=Index(fields=['status', 'department_id', 'id'])),
        ops.AddIndex(model_name='Publication', index=Index(fields=['status', 'region_id', 'id'])),
        ops.AddIndex(model_name='Publication',
                     index=Index(fields=['status', 'category_id', 'id'])),
        ops.AddIndex(model_name='Publication',
                     index=Index(fields=['status', 'submitted_at', 'id'])),
        ops.RunPython(_indexes, _drop_indexes),
    ]
