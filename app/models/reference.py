from tortoise import fields
from tortoise.models import Model

from app.models.fields import UtcDatetimeField


class RulesVersion(Model):
    # One version of the routing rules (app.services.rules_store): every file of
    # routing_rules/ as its data. The newest row is the live rules; rows are only added, so
    # the table is also the history of every change. `parent_id` is the version a change was
    # made from, unique: two changes made from the same version cannot both be saved.
    # `files` holds, per file, the hash of its data as `minsheng rules load` last read it,
    # which is how a later load tells a web edit from a change in the files.

    id = fields.IntField(primary_key=True)
    parent_id = fields.IntField(null=True, unique=True)
    hash = fields.CharField(max_length=16)
    documents = fields.JSONField()
    files = fields.JSONField(default=dict)
    source = fields.CharField(max_length=8)  # "files" (minsheng rules load) or "web"
    at = UtcDatetimeField()
    actor_label = fields.CharField(max_length=80)
    summary = fields.CharField(max_length=200, default="")

    class Meta:
        table = "rules_version"
