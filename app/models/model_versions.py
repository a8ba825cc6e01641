from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.models.fields import UtcDatetimeField


class ModelVersion(Model):
    # One trained candidate classifier (app.services.model_versions). Its files live in
    # <model dir>/versions/<folder>/ and are never overwritten. `status`: live (the one the
    # app routes with; at most one), retired (was live), rejected (never promoted).
    # `figures`: candidate and live model on the city's held-out slice (macro-F1, accuracy, n).

    id = fields.IntField(primary_key=True)
    version = fields.CharField(max_length=60, unique=True)
    folder = fields.CharField(max_length=80)
    trained_at = UtcDatetimeField()
    examples = fields.IntField()
    city_examples = fields.IntField(default=0)
    held_out = fields.IntField(default=0)
    figures = fields.JSONField(default=dict)
    status = fields.CharField(max_length=10)
    reason = fields.TextField(default="")
    promoted_at = UtcDatetimeField(null=True)
    promoted_by = fields.CharField(max_length=80, default="")

    class Meta:
        table = "model_version"


class ModelEvent(Model):
    # Append-only log of the model's life, shown to inspectors (/staff/models): every
    # promotion, rejection, kept-for-too-few-examples and rollback, with its figures.
    # `action`: promote / reject / keep / rollback.

    id = fields.BigIntField(primary_key=True)
    version = fields.ForeignKeyField("minsheng.ModelVersion", related_name="events", null=True,
                                     on_delete=fields.RESTRICT)
    action = fields.CharField(max_length=10)
    at = UtcDatetimeField()
    actor_label = fields.CharField(max_length=80)
    reason = fields.TextField(default="")
    figures = fields.JSONField(null=True)

    class Meta:
        table = "model_event"
        indexes = (Index(fields=("at",)),)
