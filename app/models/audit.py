from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.models.fields import UtcDatetimeField


class AuditEntry(Model):
    # One thing staff did that the platform must be able to show later: an export (kind
    # "export"), or an administrative change (issue 11). Who, when, what, and its details as
    # JSON (for an export: the list, its filters, the format and how many rows went out).
    # The actor's label is kept so the entry still reads after the account is gone.

    id = fields.BigIntField(primary_key=True)
    at = UtcDatetimeField()
    actor = fields.ForeignKeyField("minsheng.Account", related_name="audit_entries",
                                   null=True, on_delete=fields.SET_NULL)
    actor_label = fields.CharField(max_length=80)
    action = fields.CharField(max_length=32)
    details = fields.JSONField(default=dict)

    class Meta:
        table = "audit_entry"
        indexes = (Index(fields=("action", "id")),)
