"""app.schemas.base: one Chinese message per field, built from the field's label and limit;
strict parsing for JSON, lenient for forms; one model for both."""

from __future__ import annotations

import inspect
import re

import pytest

from app.schemas import accounts, appeals, limits, staff
from app.schemas.base import Input, InputError, form_values, parse, parse_form
from app.web.openapi import SUBMISSION
from tests.conftest import GOOD_APPEAL


def _refusal(model, data, **options) -> InputError:
    with pytest.raises(InputError) as caught:
        parse(model, data, **options)
    return caught.value


def test_messages_are_built_from_the_label_and_the_limit(rules):
    refused = _refusal(appeals.Submission, {**GOOD_APPEAL, "title": "长" * 101, "body": "短",
                                            "contact_name": "名" * 51},
                       context={"rules": rules})
    assert refused.errors == {
        "title": f"标题不能超过 {limits.TITLE_MAX} 个字。",
        "body": f"请把情况写清楚，内容至少 {limits.BODY_MIN} 个字。",
        "contact_name": f"姓名不能超过 {limits.CONTACT_NAME_MAX} 个字。",
    }
    assert set(refused.codes.values()) == {"invalid"}


def test_blank_text_reads_as_missing_but_keeps_the_invalid_code(rules):
    refused = _refusal(appeals.Submission, {**GOOD_APPEAL, "title": "  \t "},
                       context={"rules": rules})
    assert refused.errors == {"title": "请填写标题。"}
    assert refused.codes == {"title": "invalid"}


@pytest.mark.parametrize(("text", "message"), [("空\x00字符", "补充内容含有无效的字符。"),
                                               ("孤\ud800立代理", "补充内容含有无效的字符。")])
def test_nul_and_lone_surrogates_are_refused(text, message):
    assert _refusal(appeals.InfoSupplied, {"text": text * 3}).errors == {"text": message}


def test_structural_problems_come_first_and_each_field_is_named_once():
    refused = _refusal(appeals.Rating, {"rating": 5, "reason": None, "stars": 5}, strict=True)
    assert list(refused.codes.items()) == [("stars", "unknown_field"),
                                           ("rating", "invalid_type")]
    assert refused.field == "stars"
    assert refused.errors["rating"] == "评价（rating）应为文字。"


def test_strict_parsing_refuses_what_a_form_would_coerce():
    assert _refusal(staff.ExtensionRequest, {"days": "3", "reason": "需要现场勘查"},
                    strict=True).codes == {"days": "invalid_type"}
    assert parse_form(staff.ExtensionRequest, {"days": "3", "reason": "需要现场勘查"}).days == 3


def test_form_values_take_checkboxes_and_leave_out_other_keys():
    form = {"csrf_token": "x", "public": "1", "title": " 标题 ", "named_unit": ""}
    values = form_values(appeals.Submission, form)
    assert values["public"] is True and values["title"] == " 标题 "
    assert "csrf_token" not in values
    assert form_values(appeals.Submission, {})["public"] is False


def test_an_empty_number_on_a_form_is_not_given():
    refused = _refusal(staff.ExtensionRequest, form_values(staff.ExtensionRequest,
                                                           {"days": "", "reason": "需要现场勘查"}))
    assert refused.errors == {"days": "请填写延期的工作日天数。"}
    with pytest.raises(InputError) as caught:
        parse_form(staff.ExtensionRequest, {"days": str(limits.EXTENSION_DAYS_MAX + 1),
                                            "reason": "需要现场勘查"})
    assert caught.value.errors["days"] == (f"延期天数须在 {limits.EXTENSION_DAYS_MIN} 到 "
                                           f"{limits.EXTENSION_DAYS_MAX} 个工作日之间。")


def test_passwords_are_taken_exactly_as_typed():
    login = parse_form(accounts.Login, {"username": " li ", "password": "  secret  "})
    assert (login.username, login.password) == ("li", "  secret  ")


def test_a_second_channel_narrows_the_same_submission(rules):
    refused = _refusal(appeals.QuickSubmission, {**GOOD_APPEAL, "type": "report"},
                       context={"rules": rules})
    assert refused.errors == {"type": appeals.QUICK_TYPE_MESSAGE}


def test_nullable_fields_are_documented_as_a_list_of_types():
    assert SUBMISSION["properties"]["category"]["type"] == ["string", "null"]
    assert SUBMISSION["properties"]["title"]["maxLength"] == limits.TITLE_MAX
    assert SUBMISSION["additionalProperties"] is False


def test_every_input_field_has_a_chinese_label_for_its_messages():
    for module in (accounts, appeals, staff):
        for _, model in inspect.getmembers(module, inspect.isclass):
            if issubclass(model, Input) and model is not Input:
                for name, field in model.model_fields.items():
                    assert field.title and re.search(r"[\u4e00-\u9fff]", field.title), \
                        (model.__name__, name)


@pytest.mark.parametrize(("data", "errors"), [
    ({"reason": "spam"}, {"reason": "请选择不予受理的理由。"}),
    ({"reason": "other", "explanation": " 不行 "},
     {"explanation": f"选择“其他”时，请说明不予受理的理由（至少 {limits.REASON_MIN} 个字）。"}),
])
def test_a_rejection_names_a_known_reason_and_explains_other(data, errors):
    assert _refusal(staff.Reject, data).errors == errors


def test_a_known_reason_needs_no_explanation():
    assert parse(staff.Reject, {"reason": "duplicate"}).explanation == ""
