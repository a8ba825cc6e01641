"""Reveals of masked personal data (app.models.reveals): one row per value revealed, with
the appeal's event, counted per person and day and listed for inspectors."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from app.models.fields import UtcDatetimeField


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0010_followup')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Reveal',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True,
                                          db_index=True)),
                ('appeal', fields.ForeignKeyField(
                    'minsheng.Appeal', source_field='appeal_id', db_constraint=True,
                    to_field='id', related_name='reveals', on_delete=OnDelete.RESTRICT)),
                ('event', fields.ForeignKeyField(
                    'minsheng.AppealEvent', source_field='event_id', db_constraint=True,
                    to_field='id', related_name='reveals', on_delete=OnDelete.RESTRICT)),
                ('actor', fields.ForeignKeyField(
                    'minsheng.Account', source_field='actor_id', db_constraint=True,
                    to_field='id', related_name='reveals', on_delete=OnDelete.RESTRICT)),
                ('actor_label', fields.CharField(max_length=80)),
                ('at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('place', fields.CharField(max_length=32)),
                ('position', fields.SmallIntField(default=0)),
                ('kind', fields.CharField(max_length=16)),
                ('reason', fields.CharField(max_length=200)),
            ],
            options={'table': 'reveal', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddIndex(model_name='Reveal', index=Index(fields=['actor_id', 'at', 'id'])),
        ops.AddIndex(model_name='Reveal', index=Index(fields=['at', 'id'])),
    ]
