"""Idempotency keys (app.models.public.IdempotencyRecord): the first answer to a POST, replayed
to a retry with the same key."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from app.models.fields import UtcDatetimeField


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0018_api_clients')]

    initial = False

    operations = [
        ops.CreateModel(
            name='IdempotencyRecord',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True,
                                          db_index=True)),
                ('scope', fields.CharField(max_length=40)),
                ('key', fields.CharField(max_length=200)),
                ('fingerprint', fields.CharField(max_length=64)),
                ('appeal', fields.ForeignKeyField(
                    'minsheng.Appeal', source_field='appeal_id', null=True, db_constraint=True,
                    to_field='id', related_name='idempotency_records',
                    on_delete=OnDelete.RESTRICT)),
                ('status_code', fields.SmallIntField(default=201)),
                ('response', fields.JSONField(null=True)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'idempotency_record', 'app': 'minsheng',
                     'unique_together': (('scope', 'key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddIndex(model_name='IdempotencyRecord', index=Index(fields=['created_at'])),
    ]
