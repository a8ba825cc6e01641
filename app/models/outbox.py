from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.models.fields import UtcDatetimeField


class OutboxMessage(Model):
    # A mail or SMS waiting to go out, written in the transaction of the change that causes it.
    # The worker claims it (status sending, claimed_by, claimed_until), sends, and marks it
    # sent, or schedules a retry. A claim that expires (worker died) becomes claimable again.
    # Times are stored in UTC.

    id = fields.BigIntField(primary_key=True)
    # mail (to_address an e-mail address) or sms (to_address a mobile number, the text in
    # text_body; subject and html_body empty).
    channel = fields.CharField(max_length=8, default="mail", db_default="mail")
    kind = fields.CharField(max_length=32)
    # Unique when set: a notice with a key is queued at most once (e.g. warn:<id>:<due>).
    dedupe_key = fields.CharField(max_length=200, unique=True, null=True)
    to_address = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=255)
    text_body = fields.TextField()
    html_body = fields.TextField()
    status = fields.CharField(max_length=10, default="pending")  # pending/sending/sent/failed
    attempts = fields.IntField(default=0)
    next_attempt_at = UtcDatetimeField()
    claimed_by = fields.CharField(max_length=80, null=True)
    claimed_until = UtcDatetimeField(null=True)
    # Short, never the message body.
    last_error = fields.CharField(max_length=300, default="")
    created_at = UtcDatetimeField()
    sent_at = UtcDatetimeField(null=True)

    class Meta:
        table = "outbox_message"
        indexes = (Index(fields=("status", "next_attempt_at")),)


class OutboxAttempt(Model):
    # One row per delivery attempt: when, whether it worked, and a short error.

    id = fields.BigIntField(primary_key=True)
    message = fields.ForeignKeyField(
        "minsheng.OutboxMessage", related_name="attempt_log", on_delete=fields.CASCADE
    )
    at = UtcDatetimeField()
    ok = fields.BooleanField()
    error = fields.CharField(max_length=300, default="")

    class Meta:
        table = "outbox_attempt"
        indexes = (Index(fields=("message_id", "id")),)
