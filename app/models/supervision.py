from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.models.fields import UtcDatetimeField


class SupervisionOrder(Model):
    # 督办: an inspector's order to a department about one appeal; its states are those of
    # app.domain.supervision. A re-issue starts a new round on the same row.

    id = fields.BigIntField(primary_key=True)
    appeal = fields.ForeignKeyField(
        "minsheng.Appeal", related_name="supervision_orders", on_delete=fields.RESTRICT
    )
    department = fields.ForeignKeyField(
        "minsheng.Department", related_name="supervision_orders", on_delete=fields.RESTRICT
    )
    status = fields.CharField(max_length=16)  # issued / answered / closed
    round = fields.SmallIntField(default=1)
    reason = fields.TextField()
    days = fields.SmallIntField()  # working days to answer
    issued_at = UtcDatetimeField()
    due_at = UtcDatetimeField()
    issued_by = fields.ForeignKeyField(
        "minsheng.Account", related_name="supervision_orders_issued", null=True,
        on_delete=fields.RESTRICT,
    )
    answer_text = fields.TextField(default="")
    answered_at = UtcDatetimeField(null=True)
    answered_by = fields.ForeignKeyField(
        "minsheng.Account", related_name="supervision_answers", null=True,
        on_delete=fields.RESTRICT,
    )
    escalated_at = UtcDatetimeField(null=True)  # once per round, set by the sweep
    closed_at = UtcDatetimeField(null=True)

    class Meta:
        table = "supervision_order"
        indexes = (
            Index(fields=("department_id", "status", "due_at")),
            Index(fields=("status", "due_at")),  # the sweep's escalation
            Index(fields=("appeal_id", "id")),
        )
