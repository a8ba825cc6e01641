"""Attachments by content (app.services.attachments): the index the worker's prune of
unreferenced files asks."""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0022_throttle_purge')]

    initial = False

    operations = [
        ops.AddIndex(model_name='Attachment', index=Index(fields=['sha256'])),
    ]
