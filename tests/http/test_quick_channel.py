"""The quick channel: no account, hot topics, credentials on a printable receipt."""

import re

from app.models import Appeal
from app.services.secrets import ALPHABET
from tests.conftest import post_form, unique


async def test_hot_topics_are_listed_and_prefill_the_title(database, rules, client):
    page = await client.get("/quick")
    assert page.status_code == 200
    for topic in rules.hot_topics:
        assert topic in page.text
    prefilled = await client.get("/quick", params={"topic": rules.hot_topics[0]})
    assert f'value="{rules.hot_topics[0]}"' in prefilled.text


async def test_quick_submission_issues_credentials_that_open_only_that_appeal(database,
                                                                              new_client):
    resident, stranger = new_client(), new_client()
    title = unique("快速")
    receipt = await post_form(resident, "/quick", {
        "type": "help", "region": "990221", "title": title,
        "body": "家里老人独居，最近生病没人照顾，想问问社区有没有上门服务。",
        "contact_phone": "13900001111"}, "/quick")
    assert receipt.status_code == 200
    username = re.search(r'id="tracking-username">([^<]+)<', receipt.text).group(1)
    password = re.search(r'id="tracking-password">([^<]+)<', receipt.text).group(1)
    assert len(password) >= 14 and set(password) <= set(ALPHABET)
    assert not set("01lIoO") & set(username[2:] + password)
    appeal = await Appeal.get(title=title)
    assert appeal.channel == "quick"
    assert password not in (appeal.tracker_secret_hash, appeal.tracker_username)

    wrong = await post_form(stranger, "/track", {"username": username, "password": "x" * 14},
                            "/track")
    assert wrong.status_code == 400 and title not in wrong.text
    ok = await post_form(stranger, "/track", {"username": username.upper(),
                                              "password": password}, "/track")
    assert ok.status_code == 303
    assert title in (await stranger.get("/track/appeal")).text


async def test_quick_channel_refuses_reports(database, client):
    title = unique("快速举报")
    refused = await post_form(client, "/quick", {
        "type": "report", "region": "990221", "title": title,
        "body": "某单位领导违规吃喝，群众意见很大。", "contact_phone": "13900001111"}, "/quick")
    assert refused.status_code == 400 and "我要留言" in refused.text
    assert not await Appeal.exists(title=title)

