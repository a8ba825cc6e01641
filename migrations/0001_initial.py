from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Category',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=40)),
                ('name', fields.CharField(max_length=50)),
                ('level', fields.SmallIntField()),
                ('parent', fields.ForeignKeyField('minsheng.Category', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'category', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Region',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=12)),
                ('name', fields.CharField(max_length=50)),
                ('level', fields.CharField(max_length=10)),
                ('parent', fields.ForeignKeyField('minsheng.Region', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'region', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Department',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=40)),
                ('name', fields.CharField(max_length=80)),
                ('kind', fields.CharField(max_length=30)),
                ('region', fields.ForeignKeyField('minsheng.Region', source_field='region_id', db_constraint=True, to_field='id', related_name='departments', on_delete=OnDelete.RESTRICT)),
                ('head_name', fields.CharField(default='', max_length=50)),
                ('email', fields.CharField(default='', max_length=254)),
                ('active', fields.BooleanField(default=True)),
            ],
            options={'table': 'department', 'app': 'minsheng', 'unique_together': (('region', 'kind'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=64)),
                ('password_hash', fields.CharField(max_length=200)),
                ('role', fields.CharField(db_index=True, max_length=16)),
                ('display_name', fields.CharField(default='', max_length=50)),
                ('department', fields.ForeignKeyField('minsheng.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='staff', on_delete=OnDelete.RESTRICT)),
                ('email', fields.CharField(null=True, max_length=254)),
                ('phone', fields.CharField(null=True, max_length=32)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'account', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Appeal',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tracking_number', fields.CharField(unique=True, max_length=24)),
                ('type', fields.CharField(max_length=16)),
                ('category', fields.ForeignKeyField('minsheng.Category', source_field='category_id', null=True, db_constraint=True, to_field='id', related_name='appeals', on_delete=OnDelete.RESTRICT)),
                ('region', fields.ForeignKeyField('minsheng.Region', source_field='region_id', db_constraint=True, to_field='id', related_name='appeals', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(max_length=100)),
                ('body', fields.TextField(unique=False)),
                ('contact_name', fields.CharField(default='', max_length=50)),
                ('contact_phone', fields.CharField(default='', max_length=32)),
                ('contact_email', fields.CharField(default='', max_length=254)),
                ('is_public', fields.BooleanField(default=False)),
                ('named_unit', fields.ForeignKeyField('minsheng.Department', source_field='named_unit_id', null=True, db_constraint=True, to_field='id', related_name='reports_about', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharField(max_length=16)),
                ('department', fields.ForeignKeyField('minsheng.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='appeals', on_delete=OnDelete.RESTRICT)),
                ('resident', fields.ForeignKeyField('minsheng.Account', source_field='resident_id', null=True, db_constraint=True, to_field='id', related_name='appeals', on_delete=OnDelete.RESTRICT)),
                ('tracker_username', fields.CharField(null=True, unique=True, max_length=32)),
                ('tracker_secret_hash', fields.CharField(default='', max_length=64)),
                ('submitted_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('assigned_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('acknowledged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ack_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reply_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deadline_provisional', fields.BooleanField(default=False)),
                ('replied_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reply_text', fields.TextField(default='', unique=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('rating', fields.CharField(default='', max_length=16)),
                ('routing', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'appeal', 'app': 'minsheng', 'indexes': [Index(fields=['status', 'reply_due_at']), Index(fields=['department_id', 'status', 'reply_due_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AppealEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('appeal', fields.ForeignKeyField('minsheng.Appeal', source_field='appeal_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=24)),
                ('from_status', fields.CharField(max_length=16)),
                ('to_status', fields.CharField(max_length=16)),
                ('actor', fields.ForeignKeyField('minsheng.Account', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT)),
                ('actor_label', fields.CharField(max_length=80)),
                ('department', fields.ForeignKeyField('minsheng.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('note', fields.TextField(default='', unique=False)),
                ('data', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('public', fields.BooleanField(default=True)),
            ],
            options={'table': 'appeal_event', 'app': 'minsheng', 'indexes': [Index(fields=['appeal_id', 'id']), Index(fields=['kind', 'department_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LabelledExample',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('appeal', fields.OneToOneField('minsheng.Appeal', source_field='appeal_id', db_constraint=True, to_field='id', related_name='labelled_example', on_delete=OnDelete.RESTRICT)),
                ('category', fields.CharField(max_length=50)),
                ('department_code', fields.CharField(max_length=40)),
                ('source', fields.CharField(max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'labelled_example', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TrackingCounter',
            fields=[
                ('day', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=8)),
                ('counter', fields.IntField(default=0)),
            ],
            options={'table': 'tracking_counter', 'app': 'minsheng', 'pk_attr': 'day'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebSession',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('account', fields.ForeignKeyField('minsheng.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('appeal', fields.ForeignKeyField('minsheng.Appeal', source_field='appeal_id', null=True, db_constraint=True, to_field='id', related_name='tracking_sessions', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'web_session', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
