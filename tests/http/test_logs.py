"""Logs hold no secret and no personal data: not the one-time tokens in mailed links, not
the generated tracking password, not the resident's phone or mail address."""

import logging

from tests.conftest import GOOD_APPEAL, csrf, post_form, submit_appeal


async def test_requests_log_no_tokens_passwords_or_contacts(database, client, caplog):
    caplog.set_level(logging.INFO)  # what `serve` runs at; DEBUG would print SQL values
    phone, email = "13912345678", "laowang@example.com"
    receipt = await submit_appeal(client, contact_phone=phone, contact_email=email,
                                  title="日志测试")
    await post_form(client, "/track", {"username": receipt["username"],
                                       "password": receipt["password"]}, "/track")
    token = "SECRET-token-value-1234567890"
    await client.get(f"/account/verify?token={token}")
    await client.post("/account/verify", data={"csrf_token": await csrf(client, "/track"),
                                               "token": token})
    await client.get("/no/such/page")
    # httpx is the test's own client, not the server.
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "GET /account/verify" in text or "POST /submit" in text  # the access log ran
    for secret in (token, receipt["password"], phone, email, GOOD_APPEAL["contact_phone"]):
        assert secret not in text
