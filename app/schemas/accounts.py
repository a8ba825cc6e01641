"""Logins, resident registration, and the forms of the password and tracking resets."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from app.schemas.base import Blank, Input, Say
from app.schemas.limits import (
    CONTACT_NAME_MAX,
    EMAIL_MAX,
    EMAIL_PATTERN,
    NO_NUL,
    PASSWORD_MAX,
    PASSWORD_MIN,
    PHONE_PATTERN,
    TOKEN_MAX,
    TRACKING_NUMBER_MAX,
    USERNAME_MAX,
)

# A password is taken exactly as typed: spaces at either end are part of it.
Secret = Annotated[str, StringConstraints(strip_whitespace=False)]
_TOO_SHORT = "密码至少 {min_length} 位。"
NewPassword = Annotated[Secret, Field(title="密码", min_length=PASSWORD_MIN,
                                      max_length=PASSWORD_MAX),
                        Say(missing=_TOO_SHORT, too_short=_TOO_SHORT)]
_EMAIL_WRONG = "请填写有效的电子邮箱。"
Email = Annotated[str, Field(title="电子邮箱", max_length=EMAIL_MAX, pattern=EMAIL_PATTERN),
                  Say.always(_EMAIL_WRONG)]


class Login(Input):
    """Any login form. A refused one reads like wrong credentials, never more."""

    username: Annotated[str, Field(title="用户名", min_length=1, max_length=USERNAME_MAX)]
    password: Annotated[Secret, Field(title="密码", min_length=1, max_length=PASSWORD_MAX)]


class ResidentLogin(Input):
    email: Annotated[str, Field(title="电子邮箱", min_length=1, max_length=EMAIL_MAX)]
    password: Annotated[Secret, Field(title="密码", min_length=1, max_length=PASSWORD_MAX)]


class Register(Input):
    email: Email
    phone: Annotated[str | None, Field(title="电话号码", pattern=PHONE_PATTERN), Blank] = None
    name: Annotated[str, Field(title="称呼", max_length=CONTACT_NAME_MAX, pattern=NO_NUL)] = ""
    password: NewPassword


class Token(Input):
    """The one-time token of a mailed link."""

    token: Annotated[str, Field(title="链接", min_length=1, max_length=TOKEN_MAX)]


class NewPasswordForm(Token):
    password: NewPassword


class ResetRequest(Input):
    email: Email


class TrackingResetRequest(ResetRequest):
    tracking_number: Annotated[str, Field(title="受理编号", min_length=1,
                                          max_length=TRACKING_NUMBER_MAX, pattern=NO_NUL)]


class PasswordChange(Input):
    """A logged-in account's new password, confirmed by the one it replaces."""

    current: Annotated[Secret, Field(title="当前密码", min_length=1, max_length=PASSWORD_MAX)]
    password: NewPassword
