from tortoise import fields
from tortoise.models import Model


class Region(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=12, unique=True)
    name = fields.CharField(max_length=50)
    level = fields.CharField(max_length=10)  # province / city / county
    parent = fields.ForeignKeyField(
        "minsheng.Region", related_name="children", null=True, on_delete=fields.RESTRICT
    )

    class Meta:
        table = "region"


class Department(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=40, unique=True)
    name = fields.CharField(max_length=80)
    kind = fields.CharField(max_length=30)
    region = fields.ForeignKeyField(
        "minsheng.Region", related_name="departments", on_delete=fields.RESTRICT
    )
    head_name = fields.CharField(max_length=50, default="")
    email = fields.CharField(max_length=254, default="")
    active = fields.BooleanField(default=True)

    class Meta:
        table = "department"
        unique_together = (("region", "kind"),)


class Category(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=40, unique=True)
    name = fields.CharField(max_length=50)
    level = fields.SmallIntField()
    parent = fields.ForeignKeyField(
        "minsheng.Category", related_name="children", null=True, on_delete=fields.RESTRICT
    )

    class Meta:
        table = "category"
