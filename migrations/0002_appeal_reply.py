from tortoise import migrations
from tortoise.migrations import operations as ops
from app.models.fields import UtcDatetimeField
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AppealReply',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('appeal', fields.ForeignKeyField('minsheng.Appeal', source_field='appeal_id', db_constraint=True, to_field='id', related_name='replies', on_delete=OnDelete.RESTRICT)),
                ('round', fields.SmallIntField()),
                ('text', fields.TextField(unique=False)),
                ('at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.ForeignKeyField('minsheng.Account', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='replies', on_delete=OnDelete.RESTRICT)),
                ('actor_label', fields.CharField(max_length=80)),
                ('department', fields.ForeignKeyField('minsheng.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='replies', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'appeal_reply', 'app': 'minsheng', 'unique_together': (('appeal', 'round'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Appeal',
            index=Index(fields=['status', 'replied_at']),
        ),
    ]
