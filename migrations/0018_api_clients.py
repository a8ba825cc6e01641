"""Open311 client applications (app.models.public.ApiClient): one key each, stored hashed."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from app.models.fields import UtcDatetimeField


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0017_benefits')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiClient',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True,
                                       db_index=True)),
                ('name', fields.CharField(max_length=80)),
                ('key_prefix', fields.CharField(max_length=12)),
                ('key_hash', fields.CharField(max_length=64, unique=True)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('created_by', fields.CharField(default='', max_length=80)),
                ('revoked_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', UtcDatetimeField(null=True, auto_now=False,
                                                  auto_now_add=False)),
            ],
            options={'table': 'api_client', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
