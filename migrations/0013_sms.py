"""SMS through the outbox: each row names its channel (mail or sms); old rows are mail."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0012_attachments')]

    initial = False

    operations = [
        ops.AddField(model_name='OutboxMessage', name='channel',
                     field=fields.CharField(default='mail', db_default='mail', max_length=8)),
    ]
