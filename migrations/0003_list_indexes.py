"""Indexes for the lists of app.services.lists: each filter, then the sort key and id."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('minsheng', '0002_appeal_reply')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='Appeal',
            name=None,
            fields=['department_id', 'status', 'reply_due_at'],
        ),
        ops.AddIndex(
            model_name='Appeal',
            index=Index(fields=['department_id', 'status', 'reply_due_at', 'id', 'named_unit_id']),
        ),
        ops.AddIndex(
            model_name='Appeal',
            index=Index(fields=['status', 'submitted_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Appeal',
            index=Index(fields=['type', 'submitted_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Appeal',
            index=Index(fields=['department_id', 'submitted_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Appeal',
            index=Index(fields=['category_id', 'submitted_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Appeal',
            index=Index(fields=['region_id', 'submitted_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Appeal',
            index=Index(fields=['resident_id', 'submitted_at', 'id']),
        ),
    ]
