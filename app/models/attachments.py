from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.models.fields import UtcDatetimeField


class Attachment(Model):
    # A file a resident or a department added to an appeal. The file itself is in the
    # attachments directory under its sha256 (app.services.attachments); this row says
    # whose it is, so the appeal's visibility decides who may download it.

    id = fields.BigIntField(primary_key=True)
    appeal = fields.ForeignKeyField(
        "minsheng.Appeal", related_name="attachments", on_delete=fields.RESTRICT
    )
    uploaded_by = fields.ForeignKeyField(
        "minsheng.Account", related_name="attachments", null=True, on_delete=fields.RESTRICT
    )
    role = fields.CharField(max_length=16)  # resident / handler / head / dispatcher
    occasion = fields.CharField(max_length=12)  # submission / info / reply
    name = fields.CharField(max_length=100)  # as sent, made safe
    content_type = fields.CharField(max_length=40)  # decided from the content
    size = fields.IntField()  # of the stored (re-encoded) file
    sha256 = fields.CharField(max_length=64)
    created_at = UtcDatetimeField()

    class Meta:
        table = "attachment"
        # sha256: the worker's prune asks which stored files any row still names.
        indexes = (Index(fields=("appeal_id", "id")), Index(fields=("sha256",)))
