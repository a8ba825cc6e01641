"""Near-duplicate search (app.services.similar) and hotspots (app.services.hotspots).

The sketch and band rows are a derived index over appeals of the last window (default 90
days; routing_rules/similar.yaml): written with the appeal, pruned by the sweep, rebuilt from
the appeal's text at any time. They carry no foreign key so that pruning and bulk loading
stay plain.
"""

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.models.fields import UtcDatetimeField


class AppealSketch(Model):
    # The appeal's MinHash signature (little-endian uint32 values), with what the search
    # filters on, so a candidate is judged without reading the appeal's text.
    appeal_id = fields.BigIntField(primary_key=True, generated=False)
    region_id = fields.IntField()
    submitted_at = UtcDatetimeField()
    signature = fields.BinaryField()

    class Meta:
        table = "appeal_sketch"
        indexes = (Index(fields=("submitted_at",)),)


class SimilarPending(Model):
    # A new appeal not yet compared with the index for its 疑似重复 mark: written with the
    # appeal, deleted by the worker that marks it (claimed with SKIP LOCKED).
    appeal_id = fields.BigIntField(primary_key=True, generated=False)

    class Meta:
        table = "similar_pending"


class AppealBand(Model):
    # One row per LSH band of a sketch: appeals sharing a key are candidates.
    id = fields.BigIntField(primary_key=True)
    key = fields.BigIntField()
    appeal_id = fields.BigIntField()

    class Meta:
        table = "appeal_band"
        indexes = (Index(fields=("key", "appeal_id")), Index(fields=("appeal_id",)))


class Hotspot(Model):
    # A group of appeals in one region about one topic over the last `period_days`, as the
    # last hotspot sweep found it. Kept across sweeps (matched by its members), so the
    # 未诉先办 notice goes out once: `notified_at` is set by a conditional update.
    id = fields.BigIntField(primary_key=True)
    period_days = fields.SmallIntField()
    region_id = fields.IntField()
    label = fields.CharField(max_length=100)
    words = fields.JSONField(default=list)
    title = fields.CharField(max_length=100, default="")
    representative_id = fields.BigIntField(null=True)
    appeal_count = fields.IntField(default=0)
    previous_count = fields.IntField(default=0)
    people = fields.IntField(default=0)
    rated = fields.IntField(default=0)
    unsatisfied = fields.IntField(default=0)
    departments = fields.JSONField(default=list)
    heat = fields.FloatField(default=0)
    first_seen_at = UtcDatetimeField()
    computed_at = UtcDatetimeField()
    notified_at = UtcDatetimeField(null=True)
    active = fields.BooleanField(default=True)

    class Meta:
        table = "hotspot"
        indexes = (Index(fields=("active", "period_days", "heat")),)


class HotspotMember(Model):
    id = fields.BigIntField(primary_key=True)
    hotspot_id = fields.BigIntField()
    appeal_id = fields.BigIntField()

    class Meta:
        table = "hotspot_member"
        indexes = (Index(fields=("hotspot_id", "appeal_id")), Index(fields=("appeal_id",)))
