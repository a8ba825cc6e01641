"""Reply templates and the knowledge base of policy answers (app.models.knowledge)."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from app.models.fields import UtcDatetimeField


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0014_search')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ReplyTemplate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('department', fields.ForeignKeyField('minsheng.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='reply_templates', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(max_length=80)),
                ('text', fields.TextField(unique=False)),
                ('updated_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_by', fields.CharField(default='', max_length=80)),
            ],
            options={'table': 'reply_template', 'app': 'minsheng', 'indexes': [Index(fields=['department_id', 'title'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='KnowledgeEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=120)),
                ('text', fields.TextField(unique=False)),
                ('category', fields.ForeignKeyField('minsheng.Category', source_field='category_id', null=True, db_constraint=True, to_field='id', related_name='knowledge_entries', on_delete=OnDelete.RESTRICT)),
                ('department', fields.ForeignKeyField('minsheng.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='knowledge_entries', on_delete=OnDelete.RESTRICT)),
                ('valid_until', fields.DateField(null=True)),
                ('updated_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_by', fields.CharField(default='', max_length=80)),
            ],
            options={'table': 'knowledge_entry', 'app': 'minsheng', 'indexes': [Index(fields=['category_id', 'valid_until'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
