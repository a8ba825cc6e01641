"""Accounts an administrator creates or resets get a one-time password, which must be
changed at first login (app.models.accounts.Account.must_change_password)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0007_appeal_facts')]

    initial = False

    operations = [
        ops.AddField(model_name='Account', name='must_change_password',
                     field=fields.BooleanField(default=False, db_default=False)),
    ]
