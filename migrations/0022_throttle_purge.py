"""When each login name last failed (app.services.throttle), so that names quiet for a day are
forgotten by the worker instead of kept for ever. Rows from before have none: the first purge
forgets those that are not locked."""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from app.models.fields import UtcDatetimeField


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0021_merging')]

    initial = False

    operations = [
        ops.AddField(model_name='LoginThrottle', name='last_failed_at',
                     field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
        ops.AddIndex(model_name='LoginThrottle', index=Index(fields=['last_failed_at'])),
    ]
