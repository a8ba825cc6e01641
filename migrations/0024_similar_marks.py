"""疑似重复 on the lists (app.services.similar.mark_pending): each new appeal's most similar
earlier appeal, found by the worker shortly after submission, and the queue of appeals it has
not compared yet. Appeals stored before this migration are not marked (their similar appeals
still show on their pages); adding nullable columns rewrites no table."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0023_attachment_files')]

    initial = False

    operations = [
        ops.AddField(model_name='Appeal', name='similar_to_id',
                     field=fields.BigIntField(null=True)),
        ops.AddField(model_name='Appeal', name='similar_score',
                     field=fields.FloatField(null=True)),
        ops.AddField(model_name='Appeal', name='similar_same_person',
                     field=fields.BooleanField(default=False, db_default=False)),
        ops.CreateModel(
            name='SimilarPending',
            fields=[
                ('appeal_id', fields.BigIntField(generated=False, primary_key=True,
                                                 unique=True, db_index=True)),
            ],
            options={'table': 'similar_pending', 'app': 'minsheng', 'pk_attr': 'appeal_id'},
            bases=['Model'],
        ),
    ]
