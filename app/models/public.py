from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.models.fields import GramsField, UtcDatetimeField


class Publication(Model):
    # One appeal's published text (app.services.publication): the redacted title, question and
    # reply an approver approved. Public pages, feeds, open data and Open311 listings read this
    # table only, never the appeal's own text, so the unredacted words cannot reach them.
    # `status`: published / unpublished (withdrawn by the approver or by the resident's consent).

    id = fields.BigIntField(primary_key=True)
    appeal = fields.OneToOneField("minsheng.Appeal", related_name="publication",
                                  on_delete=fields.RESTRICT)
    status = fields.CharField(max_length=12)
    title = fields.CharField(max_length=100)
    question = fields.TextField()
    reply = fields.TextField()
    type = fields.CharField(max_length=16)
    department = fields.ForeignKeyField("minsheng.Department", related_name="publications",
                                        null=True, on_delete=fields.RESTRICT)
    region = fields.ForeignKeyField("minsheng.Region", related_name="publications",
                                    on_delete=fields.RESTRICT)
    category = fields.ForeignKeyField("minsheng.Category", related_name="publications",
                                      null=True, on_delete=fields.RESTRICT)
    submitted_at = UtcDatetimeField()
    replied_at = UtcDatetimeField(null=True)
    published_at = UtcDatetimeField()
    approved_by = fields.ForeignKeyField("minsheng.Account", related_name="publications",
                                         null=True, on_delete=fields.RESTRICT)
    approver_label = fields.CharField(max_length=80, default="")
    updated_at = UtcDatetimeField()
    search_grams = GramsField(default="")

    class Meta:
        table = "publication"
        indexes = (
            Index(fields=("status", "id")),
            Index(fields=("status", "department_id", "id")),
            Index(fields=("status", "region_id", "id")),
            Index(fields=("status", "category_id", "id")),
            Index(fields=("status", "submitted_at", "id")),
        )


class Benefit(Model):
    # 还利于民: what one case returned to the people, recorded by the handler with the reply and
    # verified (核实) or rejected by an inspector. Amounts are kept in fen (分) so sums are exact.
    # `kind`: refund 退还 / back_pay 补发 / compensation 赔偿 / relief 减免.
    # `status`: pending / verified / rejected. Department and region are copied from the appeal
    # when recorded, so totals group without a join.

    id = fields.BigIntField(primary_key=True)
    appeal = fields.ForeignKeyField("minsheng.Appeal", related_name="benefits",
                                    on_delete=fields.RESTRICT)
    kind = fields.CharField(max_length=16)
    amount_fen = fields.BigIntField()
    people = fields.IntField(default=1)
    evidence = fields.TextField(default="")
    status = fields.CharField(max_length=10)
    department = fields.ForeignKeyField("minsheng.Department", related_name="benefits",
                                        null=True, on_delete=fields.RESTRICT)
    region = fields.ForeignKeyField("minsheng.Region", related_name="benefits",
                                    on_delete=fields.RESTRICT)
    recorded_by = fields.ForeignKeyField("minsheng.Account", related_name="benefits_recorded",
                                         null=True, on_delete=fields.RESTRICT)
    recorded_label = fields.CharField(max_length=80, default="")
    recorded_at = UtcDatetimeField()
    decided_by = fields.ForeignKeyField("minsheng.Account", related_name="benefits_decided",
                                        null=True, on_delete=fields.RESTRICT)
    decided_label = fields.CharField(max_length=80, default="")
    decided_at = UtcDatetimeField(null=True)
    decision_note = fields.CharField(max_length=200, default="")

    class Meta:
        table = "benefit"
        indexes = (Index(fields=("status", "recorded_at", "id")),
                   Index(fields=("appeal_id", "id")))


class ApiClient(Model):
    # A client application that may post through Open311 (app.services.api_clients): the admin
    # issues its key, shown once; only the key's SHA-256 is stored. Revoking sets `revoked_at`.

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=80)
    key_prefix = fields.CharField(max_length=12)
    key_hash = fields.CharField(max_length=64, unique=True)
    created_at = UtcDatetimeField()
    created_by = fields.CharField(max_length=80, default="")
    revoked_at = UtcDatetimeField(null=True)
    last_used_at = UtcDatetimeField(null=True)

    class Meta:
        table = "api_client"


class IdempotencyRecord(Model):
    # The first answer to a POST that carried an Idempotency-Key (app.services.idempotency):
    # a retry with the same key and body within 24 hours gets it again; with another body, 409.
    # `scope` separates doors and clients ("api", "open311:<client id>"); `fingerprint` is the
    # SHA-256 of the request body; `response` never holds the tracking password.

    id = fields.BigIntField(primary_key=True)
    scope = fields.CharField(max_length=40)
    key = fields.CharField(max_length=200)
    fingerprint = fields.CharField(max_length=64)
    appeal = fields.ForeignKeyField("minsheng.Appeal", related_name="idempotency_records",
                                    null=True, on_delete=fields.RESTRICT)
    status_code = fields.SmallIntField(default=201)
    response = fields.JSONField(null=True)
    created_at = UtcDatetimeField()

    class Meta:
        table = "idempotency_record"
        unique_together = (("scope", "key"),)
        indexes = (Index(fields=("created_at",)),)
