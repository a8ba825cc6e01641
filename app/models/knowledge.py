from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.models.fields import UtcDatetimeField


class ReplyTemplate(Model):
    # A reply a handler starts from (app.services.replies). `department` null: shared by every
    # department, kept by the administrator; otherwise kept by that department's head.
    # Placeholders ({姓名} {受理编号} {部门}) are filled when a handler inserts it.

    id = fields.IntField(primary_key=True)
    department = fields.ForeignKeyField("minsheng.Department", related_name="reply_templates",
                                        null=True, on_delete=fields.RESTRICT)
    title = fields.CharField(max_length=80)
    text = fields.TextField()
    updated_at = UtcDatetimeField()
    updated_by = fields.CharField(max_length=80, default="")

    class Meta:
        table = "reply_template"
        indexes = (Index(fields=("department_id", "title")),)


class KnowledgeEntry(Model):
    # A policy answer (知识库) handlers and dispatchers read while answering; kept by the
    # administrator. Past `valid_until` (a local date, inclusive) it is no longer shown.

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=120)
    text = fields.TextField()
    category = fields.ForeignKeyField("minsheng.Category", related_name="knowledge_entries",
                                      null=True, on_delete=fields.RESTRICT)
    department = fields.ForeignKeyField("minsheng.Department",
                                        related_name="knowledge_entries", null=True,
                                        on_delete=fields.RESTRICT)
    valid_until = fields.DateField(null=True)
    updated_at = UtcDatetimeField()
    updated_by = fields.CharField(max_length=80, default="")

    class Meta:
        table = "knowledge_entry"
        indexes = (Index(fields=("category_id", "valid_until")),)
