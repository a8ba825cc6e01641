"""督办 (supervision orders): their own table, app.models.supervision."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from app.models.fields import UtcDatetimeField
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0004_backfill_replies')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SupervisionOrder',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('appeal', fields.ForeignKeyField('minsheng.Appeal', source_field='appeal_id', db_constraint=True, to_field='id', related_name='supervision_orders', on_delete=OnDelete.RESTRICT)),
                ('department', fields.ForeignKeyField('minsheng.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='supervision_orders', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharField(max_length=16)),
                ('round', fields.SmallIntField(default=1)),
                ('reason', fields.TextField(unique=False)),
                ('days', fields.SmallIntField()),
                ('issued_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('due_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('issued_by', fields.ForeignKeyField('minsheng.Account', source_field='issued_by_id', null=True, db_constraint=True, to_field='id', related_name='supervision_orders_issued', on_delete=OnDelete.RESTRICT)),
                ('answer_text', fields.TextField(default='', unique=False)),
                ('answered_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('answered_by', fields.ForeignKeyField('minsheng.Account', source_field='answered_by_id', null=True, db_constraint=True, to_field='id', related_name='supervision_answers', on_delete=OnDelete.RESTRICT)),
                ('escalated_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'supervision_order', 'app': 'minsheng', 'indexes': [Index(fields=['department_id', 'status', 'due_at']), Index(fields=['status', 'due_at']), Index(fields=['appeal_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
