"""Every limit on what people type, written once: the models of `app.schemas` enforce them,
the OpenAPI document publishes them, and the error messages quote them."""

TITLE_MAX = 100
BODY_MIN, BODY_MAX = 10, 5000
CONTACT_NAME_MAX = 50
EMAIL_MAX = 254
# Digits with spaces or hyphens, an optional leading +: 6 to 20 characters.
PHONE_PATTERN = r"^\+?[0-9][0-9\- ]{5,19}$"
# No U+0000 either (PostgreSQL cannot compare or store it).
EMAIL_PATTERN = r"^[^@\s\u0000]{1,64}@[^@\s\u0000]{1,190}\.[^@\s\u0000]{1,60}$"
# No U+0000 anywhere: PostgreSQL cannot store it, and no resident types it.
NO_NUL = "^[^\\u0000]*$"

REGION_MAX = 12
CATEGORY_MAX = 50  # a category's name, as the forms send it
CATEGORY_CODE_MAX = 40  # its code, as the list filters send it
DEPARTMENT_MAX = 40

INFO_MIN, INFO_MAX = 5, 2000  # what a resident supplies, and what a department asks for
REASON_MIN, REASON_MAX = 5, 2000  # 不满意, extension and rejection reasons
RETURN_REASON_MAX = 500  # a department's reason for handing an appeal back
ROUTE_NOTE_MAX = 500
NOTE_MAX = 2000  # the note on an extension decision
REPLY_MIN, REPLY_MAX = 10, 5000
# Working days one extension request may ask for; the room left under the appeal type's
# max_extension_days (routing_rules/clocks.yaml) is checked against the appeal itself.
EXTENSION_DAYS_MIN, EXTENSION_DAYS_MAX = 1, 60
# 督办: the order's reason, the working days the department has to answer, its answer;
# 催办: the reminder's note.
SUPERVISION_REASON_MIN, SUPERVISION_REASON_MAX = 5, 2000
SUPERVISION_DAYS_MIN, SUPERVISION_DAYS_MAX = 1, 30
SUPERVISION_ANSWER_MIN, SUPERVISION_ANSWER_MAX = 10, 5000
REMINDER_NOTE_MAX = 500

TRACKING_NUMBER_MAX = 24  # the column's width: a longer text is nobody's number
MERGE_MEMBERS_MAX = 6000  # 并单: up to 200 tracking numbers with separators
USERNAME_MAX = 254
PASSWORD_MIN, PASSWORD_MAX = 10, 128
TOKEN_MAX = 100
