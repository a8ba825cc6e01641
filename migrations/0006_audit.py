"""The audit log (app.models.audit): exports now, administrative changes later."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from app.models.fields import UtcDatetimeField
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0005_supervision')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.ForeignKeyField('minsheng.Account', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.SET_NULL)),
                ('actor_label', fields.CharField(max_length=80)),
                ('action', fields.CharField(max_length=32)),
                ('details', fields.JSONField(default=dict)),
            ],
            options={'table': 'audit_entry', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='AuditEntry',
            index=Index(fields=['action', 'id']),
        ),
    ]
