"""The routing rules in the database (app.models.reference.RulesVersion): the live rules an
administrator edits on /admin/, one row per version."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from app.models.fields import UtcDatetimeField


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0008_accounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RulesVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('parent_id', fields.IntField(null=True, unique=True)),
                ('hash', fields.CharField(max_length=16)),
                ('documents', fields.JSONField()),
                ('files', fields.JSONField(default=dict)),
                ('source', fields.CharField(max_length=8)),
                ('at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('actor_label', fields.CharField(max_length=80)),
                ('summary', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'rules_version', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
