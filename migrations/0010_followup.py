"""回访 (follow-up calls after closing): the outcome of the current closing's call kept on
the appeal row for the list and the statistics (the calls themselves are events), and an
index of closed appeals by closing time for the list of calls due; and an index for the
dispatcher's list of extension requests waiting for a decision."""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from app.models.fields import UtcDatetimeField


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0009_reference')]

    initial = False

    operations = [
        ops.AddField(model_name='Appeal', name='followup_at',
                     field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
        ops.AddField(model_name='Appeal', name='followup_result',
                     field=fields.CharField(default='', db_default='', max_length=10)),
        ops.AddField(model_name='Appeal', name='followup_satisfaction',
                     field=fields.CharField(default='', db_default='', max_length=24)),
        ops.AddField(model_name='Appeal', name='followup_attempts',
                     field=fields.SmallIntField(default=0, db_default=0)),
        ops.AddField(model_name='Appeal', name='followup_reopened',
                     field=fields.BooleanField(default=False, db_default=False)),
        ops.AddIndex(model_name='Appeal', index=Index(fields=['status', 'closed_at', 'id'])),
        ops.AddIndex(model_name='Appeal',
                     index=Index(fields=['extension_requested_days', 'department_id'])),
    ]
