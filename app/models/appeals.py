from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.models.fields import GramsField, UtcDatetimeField


class Appeal(Model):
    id = fields.BigIntField(primary_key=True)
    tracking_number = fields.CharField(max_length=24, unique=True)
    type = fields.CharField(max_length=16)
    category = fields.ForeignKeyField(
        "minsheng.Category", related_name="appeals", null=True, on_delete=fields.RESTRICT
    )
    region = fields.ForeignKeyField(
        "minsheng.Region", related_name="appeals", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=100)
    body = fields.TextField()
    contact_name = fields.CharField(max_length=50, default="")
    contact_phone = fields.CharField(max_length=32, default="")
    contact_email = fields.CharField(max_length=254, default="")
    is_public = fields.BooleanField(default=False)
    named_unit = fields.ForeignKeyField(
        "minsheng.Department", related_name="reports_about", null=True, on_delete=fields.RESTRICT
    )
    status = fields.CharField(max_length=16)
    department = fields.ForeignKeyField(
        "minsheng.Department", related_name="appeals", null=True, on_delete=fields.RESTRICT
    )
    resident = fields.ForeignKeyField(
        "minsheng.Account", related_name="appeals", null=True, on_delete=fields.RESTRICT
    )
    tracker_username = fields.CharField(max_length=32, unique=True, null=True)
    tracker_secret_hash = fields.CharField(max_length=64, default="")
    submitted_at = UtcDatetimeField(db_index=True)
    assigned_at = UtcDatetimeField(null=True)
    acknowledged_at = UtcDatetimeField(null=True)
    ack_due_at = UtcDatetimeField(null=True)
    reply_due_at = UtcDatetimeField(null=True)
    deadline_provisional = fields.BooleanField(default=False)
    window_start = UtcDatetimeField(null=True)  # submission, or the redo
    warn_at = UtcDatetimeField(null=True)
    sla_state = fields.CharField(max_length=10, default="ok")  # ok / warning / overdue
    ack_late = fields.BooleanField(default=False)
    extension_days = fields.SmallIntField(default=0)
    extension_requested_days = fields.SmallIntField(default=0)
    info_request = fields.TextField(default="")
    replied_at = UtcDatetimeField(null=True)
    reply_text = fields.TextField(default="")
    closed_at = UtcDatetimeField(null=True)
    rating = fields.CharField(max_length=24, default="")
    # Facts the statistics count, written with the event that makes them true (0007), so a
    # year of appeals is one scan of this table: round 1's first reply, the deadline in
    # force at that moment (with extensions; a redo moves reply_due_at on), the working
    # days it took, and whether the appeal was ever returned, extended or redone.
    first_reply_at = UtcDatetimeField(null=True)
    first_reply_due_at = UtcDatetimeField(null=True)
    first_reply_days = fields.SmallIntField(null=True)
    return_count = fields.SmallIntField(default=0, db_default=0)
    was_extended = fields.BooleanField(default=False, db_default=False)
    was_redone = fields.BooleanField(default=False, db_default=False)
    channel = fields.CharField(max_length=8, default="", db_default="")  # domain.types.Channel
    # 回访 of the current closing (0010; app.services.followup): when the call was settled
    # (NULL: not yet), its result, the resident's satisfaction, unanswered calls so far, and
    # whether a 回访 reopened the appeal (it does so once). The calls are events.
    followup_at = UtcDatetimeField(null=True)
    followup_result = fields.CharField(max_length=10, default="", db_default="")
    followup_satisfaction = fields.CharField(max_length=24, default="", db_default="")
    followup_attempts = fields.SmallIntField(default=0, db_default=0)
    followup_reopened = fields.BooleanField(default=False, db_default=False)
    routing = fields.JSONField(null=True)
    # Staff search (0014; app.domain.search_text): the text's bigrams, GIN-indexed on
    # PostgreSQL, and a hash of the contact phone's digits, matched only in full.
    search_grams = GramsField(default="", db_default="")
    phone_key = fields.CharField(max_length=64, default="", db_default="")
    # 并单 (0021; app.services.merging): the main appeal this one follows, NULL when it is
    # handled on its own. No foreign key: a plain column keeps the migration simple.
    merged_into_id = fields.BigIntField(null=True)
    # 疑似重复 (0024; app.services.similar.mark_pending): the most similar earlier appeal
    # found after submission, its estimated similarity, and whether the same person wrote
    # it. NULL when none was found (or the appeal came before the mark existed).
    similar_to_id = fields.BigIntField(null=True)
    similar_score = fields.FloatField(null=True)
    similar_same_person = fields.BooleanField(default=False, db_default=False)
    updated_at = UtcDatetimeField(auto_now=True)

    class Meta:
        table = "appeal"
        indexes = (
            Index(fields=("status", "reply_due_at")),
            # The department's queue; named_unit_id at the end makes its count index-only.
            Index(fields=("department_id", "status", "reply_due_at", "id", "named_unit_id")),
            Index(fields=("sla_state", "warn_at")),
            Index(fields=("status", "ack_due_at")),
            Index(fields=("status", "replied_at")),  # the sweep's rating lapse
            # Lists newest first (app.services.lists): one per filter, then the sort key
            # (submitted_at's own index serves the unfiltered list; ties on it are rare).
            Index(fields=("status", "submitted_at", "id")),
            Index(fields=("type", "submitted_at", "id")),
            Index(fields=("department_id", "submitted_at", "id")),
            Index(fields=("category_id", "submitted_at", "id")),
            Index(fields=("region_id", "submitted_at", "id")),
            Index(fields=("resident_id", "submitted_at", "id")),
            # 回访: closed appeals by closing time (app.services.followup).
            Index(fields=("status", "closed_at", "id")),
            # Extension requests waiting for a decision (app.services.desk): a few rows.
            Index(fields=("extension_requested_days", "department_id")),
            # Search by the resident's phone (app.services.search), newest first.
            Index(fields=("phone_key", "submitted_at", "id")),
            # The members of a main appeal (并单).
            Index(fields=("merged_into_id",)),
        )


class AppealEvent(Model):
    # Append-only: the record inspectors audit. Never updated or deleted.

    id = fields.BigIntField(primary_key=True)
    appeal = fields.ForeignKeyField(
        "minsheng.Appeal", related_name="events", on_delete=fields.RESTRICT
    )
    kind = fields.CharField(max_length=24)
    from_status = fields.CharField(max_length=16)
    to_status = fields.CharField(max_length=16)
    actor = fields.ForeignKeyField(
        "minsheng.Account", related_name="events", null=True, on_delete=fields.RESTRICT
    )
    actor_label = fields.CharField(max_length=80)
    # The department the event concerns (assigned to, returned by), for audits in SQL.
    department = fields.ForeignKeyField(
        "minsheng.Department", related_name="events", null=True, on_delete=fields.RESTRICT
    )
    at = UtcDatetimeField()
    note = fields.TextField(default="")
    data = fields.JSONField(null=True)
    public = fields.BooleanField(default=True)

    class Meta:
        table = "appeal_event"
        indexes = (
            Index(fields=("appeal_id", "id")),
            Index(fields=("kind", "department_id")),
        )


class AppealReply(Model):
    # Every reply a department gave, kept: a redo adds a round, it never overwrites one.

    id = fields.BigIntField(primary_key=True)
    appeal = fields.ForeignKeyField(
        "minsheng.Appeal", related_name="replies", on_delete=fields.RESTRICT
    )
    round = fields.SmallIntField()  # 1 for the first reply, 2 after a redo
    text = fields.TextField()
    at = UtcDatetimeField()
    actor = fields.ForeignKeyField(
        "minsheng.Account", related_name="replies", null=True, on_delete=fields.RESTRICT
    )
    actor_label = fields.CharField(max_length=80)
    department = fields.ForeignKeyField(
        "minsheng.Department", related_name="replies", null=True, on_delete=fields.RESTRICT
    )

    class Meta:
        table = "appeal_reply"
        unique_together = (("appeal", "round"),)


class TrackingCounter(Model):
    # One row a day, incremented atomically to number the appeals of that day.

    day = fields.CharField(max_length=8, primary_key=True)
    counter = fields.IntField(default=0)

    class Meta:
        table = "tracking_counter"


class LabelledExample(Model):
    # A person's final word on where an appeal belonged: training data for the next model.
    id = fields.BigIntField(primary_key=True)
    appeal = fields.OneToOneField(
        "minsheng.Appeal", related_name="labelled_example", on_delete=fields.RESTRICT
    )
    category = fields.CharField(max_length=50)
    department_code = fields.CharField(max_length=40)
    source = fields.CharField(max_length=20)  # manual_route / return_reroute / reroute_assigned
    created_at = UtcDatetimeField()

    class Meta:
        table = "labelled_example"


class SweepMark(Model):
    # Once-a-day work (the digests) claims its day here, so only one sweep does it.
    key = fields.CharField(max_length=40, primary_key=True)
    at = UtcDatetimeField()

    class Meta:
        table = "sweep_mark"
