from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from app.models.fields import UtcDatetimeField


class Account(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=200)
    role = fields.CharField(max_length=16, db_index=True)
    display_name = fields.CharField(max_length=50, default="")
    department = fields.ForeignKeyField(
        "minsheng.Department", related_name="staff", null=True, on_delete=fields.RESTRICT
    )
    email = fields.CharField(max_length=254, null=True)
    phone = fields.CharField(max_length=32, null=True)
    is_active = fields.BooleanField(default=True)
    # Set with a one-time password (an administrator's create or reset): until the account
    # chooses its own, every staff page sends it to /account/password.
    must_change_password = fields.BooleanField(default=False, db_default=False)
    created_at = UtcDatetimeField(auto_now_add=True)

    class Meta:
        table = "account"


class WebSession(Model):
    # A server-side login: for a staff or resident account, or for tracking one appeal.

    id = fields.BigIntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    account = fields.ForeignKeyField(
        "minsheng.Account", related_name="sessions", null=True, on_delete=fields.CASCADE
    )
    appeal = fields.ForeignKeyField(
        "minsheng.Appeal", related_name="tracking_sessions", null=True, on_delete=fields.CASCADE
    )
    created_at = UtcDatetimeField(auto_now_add=True)
    expires_at = UtcDatetimeField(db_index=True)

    class Meta:
        table = "web_session"


class OneTimeToken(Model):
    # A link sent by mail: verify an account, reset its password, or reset an appeal's
    # tracking password. Only the hash is stored; used once, then it is spent.
    id = fields.BigIntField(primary_key=True)
    purpose = fields.CharField(max_length=16)  # verify / reset / tracking_reset
    token_hash = fields.CharField(max_length=64, unique=True)
    account = fields.ForeignKeyField(
        "minsheng.Account", related_name="tokens", null=True, on_delete=fields.CASCADE
    )
    appeal = fields.ForeignKeyField(
        "minsheng.Appeal", related_name="tokens", null=True, on_delete=fields.CASCADE
    )
    expires_at = UtcDatetimeField()
    used_at = UtcDatetimeField(null=True)

    class Meta:
        table = "one_time_token"


class LoginThrottle(Model):
    # Failed logins per login name (hashed), shared by every app process: each failure past
    # the free ones doubles the wait before the next attempt is even checked.
    key = fields.CharField(max_length=64, primary_key=True)
    failures = fields.IntField(default=0)
    locked_until = UtcDatetimeField(null=True)
    # A name quiet for throttle.FORGET_AFTER is forgotten (a worker job), so that strangers'
    # guesses do not pile up rows for ever.
    last_failed_at = UtcDatetimeField(null=True)

    class Meta:
        table = "login_throttle"
        indexes = (Index(fields=("last_failed_at",)),)
