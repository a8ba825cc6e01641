"""Attachments (issue 12): one row per file added to an appeal; the files themselves live
in the attachments directory under their sha256."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from app.models.fields import UtcDatetimeField


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0011_reveals')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True,
                                          db_index=True)),
                ('appeal', fields.ForeignKeyField(
                    'minsheng.Appeal', source_field='appeal_id', db_constraint=True,
                    to_field='id', related_name='attachments', on_delete=OnDelete.RESTRICT)),
                ('uploaded_by', fields.ForeignKeyField(
                    'minsheng.Account', source_field='uploaded_by_id', null=True,
                    db_constraint=True, to_field='id', related_name='attachments',
                    on_delete=OnDelete.RESTRICT)),
                ('role', fields.CharField(max_length=16)),
                ('occasion', fields.CharField(max_length=12)),
                ('name', fields.CharField(max_length=100)),
                ('content_type', fields.CharField(max_length=40)),
                ('size', fields.IntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'attachment', 'app': 'minsheng',
                     'indexes': [Index(fields=['appeal_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
