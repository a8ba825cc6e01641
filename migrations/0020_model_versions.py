"""Classifier versions (app.models.model_versions): each trained candidate, the live one, and
the log of promotions, rejections and rollbacks inspectors read."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from app.models.fields import UtcDatetimeField


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0019_idempotency')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ModelVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True,
                                       db_index=True)),
                ('version', fields.CharField(unique=True, max_length=60)),
                ('folder', fields.CharField(max_length=80)),
                ('trained_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('examples', fields.IntField()),
                ('city_examples', fields.IntField(default=0)),
                ('held_out', fields.IntField(default=0)),
                ('figures', fields.JSONField(default=dict)),
                ('status', fields.CharField(max_length=10)),
                ('reason', fields.TextField(default='')),
                ('promoted_at', UtcDatetimeField(null=True, auto_now=False,
                                                 auto_now_add=False)),
                ('promoted_by', fields.CharField(default='', max_length=80)),
            ],
            options={'table': 'model_version', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ModelEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True,
                                          db_index=True)),
                ('version', fields.ForeignKeyField(
                    'minsheng.ModelVersion', source_field='version_id', null=True,
                    db_constraint=True, to_field='id', related_name='events',
                    on_delete=OnDelete.RESTRICT)),
                ('action', fields.CharField(max_length=10)),
                ('at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('actor_label', fields.CharField(max_length=80)),
                ('reason', fields.TextField(default='')),
                ('figures', fields.JSONField(null=True)),
            ],
            options={'table': 'model_event', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddIndex(model_name='ModelEvent', index=Index(fields=['at'])),
    ]
