"""并单 and 未诉先办 (app.services.merging, similar, hotspots): the main appeal an appeal
follows; the MinHash sketches and LSH bands of recent appeals; hotspots and their members.

The sketches are a derived index: appeals stored before this migration get theirs from
`minsheng similar reindex` (the sweep only writes new ones), so upgrading a large city does
not wait on it."""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from app.models.fields import UtcDatetimeField


def _id(big: bool = True):
    kind = fields.BigIntField if big else fields.IntField
    return kind(generated=True, primary_key=True, unique=True, db_index=True)


def _time(null: bool = False):
    return UtcDatetimeField(null=null, auto_now=False, auto_now_add=False)


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0020_model_versions')]

    initial = False

    operations = [
        ops.AddField(model_name='Appeal', name='merged_into_id',
                     field=fields.BigIntField(null=True)),
        ops.AddIndex(model_name='Appeal', index=Index(fields=['merged_into_id'])),
        ops.CreateModel(
            name='AppealSketch',
            fields=[
                ('appeal_id', fields.BigIntField(generated=False, primary_key=True,
                                                 unique=True, db_index=True)),
                ('region_id', fields.IntField()),
                ('submitted_at', _time()),
                ('signature', fields.BinaryField()),
            ],
            options={'table': 'appeal_sketch', 'app': 'minsheng', 'pk_attr': 'appeal_id'},
            bases=['Model'],
        ),
        ops.AddIndex(model_name='AppealSketch', index=Index(fields=['submitted_at'])),
        ops.CreateModel(
            name='AppealBand',
            fields=[
                ('id', _id()),
                ('key', fields.BigIntField()),
                ('appeal_id', fields.BigIntField()),
            ],
            options={'table': 'appeal_band', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddIndex(model_name='AppealBand', index=Index(fields=['key', 'appeal_id'])),
        ops.AddIndex(model_name='AppealBand', index=Index(fields=['appeal_id'])),
        ops.CreateModel(
            name='Hotspot',
            fields=[
                ('id', _id()),
                ('period_days', fields.SmallIntField()),
                ('region_id', fields.IntField()),
                ('label', fields.CharField(max_length=100)),
                ('words', fields.JSONField(default=list)),
                ('title', fields.CharField(default='', max_length=100)),
                ('representative_id', fields.BigIntField(null=True)),
                ('appeal_count', fields.IntField(default=0)),
                ('previous_count', fields.IntField(default=0)),
                ('people', fields.IntField(default=0)),
                ('rated', fields.IntField(default=0)),
                ('unsatisfied', fields.IntField(default=0)),
                ('departments', fields.JSONField(default=list)),
                ('heat', fields.FloatField(default=0)),
                ('first_seen_at', _time()),
                ('computed_at', _time()),
                ('notified_at', _time(null=True)),
                ('active', fields.BooleanField(default=True)),
            ],
            options={'table': 'hotspot', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddIndex(model_name='Hotspot', index=Index(fields=['active', 'period_days', 'heat'])),
        ops.CreateModel(
            name='HotspotMember',
            fields=[
                ('id', _id()),
                ('hotspot_id', fields.BigIntField()),
                ('appeal_id', fields.BigIntField()),
            ],
            options={'table': 'hotspot_member', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddIndex(model_name='HotspotMember',
                     index=Index(fields=['hotspot_id', 'appeal_id'])),
        ops.AddIndex(model_name='HotspotMember', index=Index(fields=['appeal_id'])),
    ]
