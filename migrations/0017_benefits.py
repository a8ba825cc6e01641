"""还利于民 (app.models.public.Benefit): what a case returned to the people, recorded by the
handler and verified or rejected by an inspector."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from app.models.fields import UtcDatetimeField


def _fk(model: str, column: str, related: str, *, null: bool = False):
    return fields.ForeignKeyField(model, source_field=column, null=null, db_constraint=True,
                                  to_field='id', related_name=related,
                                  on_delete=OnDelete.RESTRICT)


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0016_publication')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Benefit',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True,
                                          db_index=True)),
                ('appeal', _fk('minsheng.Appeal', 'appeal_id', 'benefits')),
                ('kind', fields.CharField(max_length=16)),
                ('amount_fen', fields.BigIntField()),
                ('people', fields.IntField(default=1)),
                ('evidence', fields.TextField(default='', unique=False)),
                ('status', fields.CharField(max_length=10)),
                ('department', _fk('minsheng.Department', 'department_id', 'benefits',
                                   null=True)),
                ('region', _fk('minsheng.Region', 'region_id', 'benefits')),
                ('recorded_by', _fk('minsheng.Account', 'recorded_by_id', 'benefits_recorded',
                                    null=True)),
                ('recorded_label', fields.CharField(default='', max_length=80)),
                ('recorded_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_by', _fk('minsheng.Account', 'decided_by_id', 'benefits_decided',
                                   null=True)),
                ('decided_label', fields.CharField(default='', max_length=80)),
                ('decided_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decision_note', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'benefit', 'app': 'minsheng', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddIndex(model_name='Benefit', index=Index(fields=['status', 'recorded_at', 'id'])),
        ops.AddIndex(model_name='Benefit', index=Index(fields=['appeal_id', 'id'])),
    ]
