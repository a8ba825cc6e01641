from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.models.fields import UtcDatetimeField


class Reveal(Model):
    # One masked value a staff member revealed (app.services.reveals), written with the
    # appeal's REVEAL event in one transaction: who, when, which place of which appeal
    # ("phone", "body", "event-<id>" ... and the value's position in it) and why. Never the
    # value. Kept for counting a person's reveals of a day and the inspectors' list.
    # Append-only, like the events.

    id = fields.BigIntField(primary_key=True)
    appeal = fields.ForeignKeyField("minsheng.Appeal", related_name="reveals",
                                    on_delete=fields.RESTRICT)
    event = fields.ForeignKeyField("minsheng.AppealEvent", related_name="reveals",
                                   on_delete=fields.RESTRICT)
    actor = fields.ForeignKeyField("minsheng.Account", related_name="reveals",
                                   on_delete=fields.RESTRICT)
    actor_label = fields.CharField(max_length=80)
    at = UtcDatetimeField()
    place = fields.CharField(max_length=32)
    position = fields.SmallIntField(default=0)
    kind = fields.CharField(max_length=16)  # domain.masking.KIND_LABELS, or phone / email
    reason = fields.CharField(max_length=200)

    class Meta:
        table = "reveal"
        indexes = (Index(fields=("actor_id", "at", "id")), Index(fields=("at", "id")))
