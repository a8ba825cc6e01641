"""SMS texts and numbers, without a database or a gateway."""

import pytest

from app.notify.sms import mask_phones, mobile_number, render_text, segments
from app.notify.smsgateway import sendsms_url

TRACK = "https://12345.example.gov.cn/track"  # a city's address, as long as they come
NUMBER = "MS20261201-000123"


@pytest.mark.parametrize("given, number", [
    ("13812345678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("0086-138-1234-5678", "13812345678"),
    ("86 19912345678", "19912345678"),
    ("0571-88881234", ""),  # a landline gets no SMS
    ("12812345678", ""),
    ("1381234567", ""),
    ("", ""),
    (None, ""),
])
def test_only_mainland_mobile_numbers_get_texts(given, number):
    assert mobile_number(given) == number


def test_numbers_in_error_text_are_masked():
    assert mask_phones("to 13812345678 and +8613912345678 failed") == \
        "to 138****5678 and +86139****5678 failed"
    assert mask_phones("HTTP 403: Authorization failed") == "HTTP 403: Authorization failed"


def test_texts_are_short_and_carry_no_password_or_free_text():
    receipt = render_text("receipt", tracking_number=NUMBER, username="msab12cd34ef",
                          track_url=TRACK)
    info = render_text("info_requested", tracking_number=NUMBER, track_url=TRACK)
    replied = render_text("replied", tracking_number=NUMBER, track_url=TRACK)
    assert receipt.startswith("【民声】") and "msab12cd34ef" in receipt and "密码不随短信发送" in receipt
    assert segments(receipt) == 2
    assert segments(info) == 1 and segments(replied) == 1
    for text in (receipt, info, replied):
        assert NUMBER in text and text.endswith(TRACK) and "\n" not in text


def test_segments_count_ucs2_parts():
    assert [segments("字" * n) for n in (1, 70, 71, 134, 135)] == [1, 1, 2, 2, 3]


@pytest.mark.parametrize("configured, url", [
    ("http://gw:13013", "http://gw:13013/cgi-bin/sendsms"),
    ("http://gw:13013/", "http://gw:13013/cgi-bin/sendsms"),
    ("https://gw.example/cgi-bin/sendsms", "https://gw.example/cgi-bin/sendsms"),
])
def test_the_gateway_address_may_omit_the_sendsms_path(configured, url):
    assert sendsms_url(configured) == url
