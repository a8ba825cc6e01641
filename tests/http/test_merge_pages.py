"""并单 through the pages: the desk merges ticked appeals into the one it is reading, a
refusal is said beside the field with what was typed kept, the member's page says where it
went and undoes it, and its resident reads that it is handled together."""

import html

from app.domain.types import Role
from app.models import Appeal, AppealEvent
from app.services import merging
from tests.conftest import csrf, login, make_staff, post_form
from tests.factories import OWN, dispatcher, make_appeal

OTHER = "990100-jiaotong"


async def _as(client, role: Role, department: str | None = None) -> None:
    await login(client, await make_staff(role, department))


async def _post(client, path: str, data: dict):
    token = await csrf(client, path.rsplit("/", 1)[0])
    return await client.post(path, data={"csrf_token": token, **data})


async def test_the_desk_merges_ticked_appeals_into_the_one_it_reads(client, rules):
    main = (await make_appeal("accepted", OWN, rules=rules)).appeal
    ticked = [(await make_appeal("assigned", OTHER, rules=rules)).appeal for _ in range(2)]
    await _as(client, Role.DISPATCHER)
    page = await client.get(f"/staff/appeals/{main.tracking_number}")
    assert 'id="merge-form"' in page.text

    done = await _post(client, f"/staff/appeals/{main.tracking_number}/merge",
                       {"members": [a.tracking_number for a in ticked]})
    assert done.status_code == 303
    for one in ticked:
        stored = await Appeal.get(id=one.id)
        assert stored.merged_into_id == main.id and stored.status == "accepted"
    page = await client.get(f"/staff/appeals/{main.tracking_number}")
    assert page.text.count('class="merge-member"') == 2
    assert "答复将同时发给每位群众" in page.text


async def test_a_refusal_is_said_beside_the_field_and_keeps_what_was_typed(client, rules):
    main = (await make_appeal("accepted", OWN, rules=rules)).appeal
    report = (await make_appeal("triage", rules=rules, type="report",
                                named_unit="990100-jiaotong")).appeal
    await _as(client, Role.DISPATCHER)
    typed = f"{report.tracking_number}"
    refused = await post_form(client, f"/staff/appeals/{main.tracking_number}/merge",
                              {"members": typed}, f"/staff/appeals/{main.tracking_number}")
    assert refused.status_code == 400
    assert 'id="merge-error"' in refused.text
    assert html.escape(merging.REPORT_REFUSED) in refused.text
    assert f'value="{typed}"' in refused.text
    assert (await Appeal.get(id=report.id)).merged_into_id is None

    unknown = await post_form(client, f"/staff/appeals/{main.tracking_number}/merge",
                              {"members": "MS19990101-000001 <b>x</b>"},
                              f"/staff/appeals/{main.tracking_number}")
    assert unknown.status_code == 400
    assert "未找到受理编号" in unknown.text
    assert "<b>x</b>" not in unknown.text  # escaped where it is shown again
    empty = await post_form(client, f"/staff/appeals/{main.tracking_number}/merge",
                            {"members": ""}, f"/staff/appeals/{main.tracking_number}")
    assert empty.status_code == 400 and "请勾选或填写" in empty.text
    assert not await AppealEvent.exists(appeal_id=main.id, kind="merge_main")


async def test_a_members_page_links_its_main_and_undoes_the_merge(client, rules):
    main = (await make_appeal("accepted", OWN, rules=rules)).appeal
    member = (await make_appeal("triage", rules=rules)).appeal
    await merging.merge(main, [member], await dispatcher())
    await _as(client, Role.DISPATCHER)
    page = await client.get(f"/staff/appeals/{member.tracking_number}")
    assert 'id="main-link"' in page.text and main.tracking_number in page.text
    assert 'id="unmerge-form"' in page.text
    assert 'id="merge-form"' not in page.text  # nothing merges into a member
    assert 'id="route-department"' not in page.text  # it is routed with its main

    no_reason = await post_form(client, f"/staff/appeals/{member.tracking_number}/unmerge",
                                {"reason": ""}, f"/staff/appeals/{member.tracking_number}")
    assert no_reason.status_code == 400 and "撤销并单须说明理由" in no_reason.text
    undone = await post_form(client, f"/staff/appeals/{member.tracking_number}/unmerge",
                             {"reason": "不是同一问题"}, f"/staff/appeals/{member.tracking_number}")
    assert undone.status_code == 303
    stored = await Appeal.get(id=member.id)
    assert stored.merged_into_id is None and stored.status == "triage"


async def test_a_handler_sees_the_group_but_acts_on_the_main_only(client, rules):
    main = (await make_appeal("assigned", OWN, rules=rules)).appeal
    member = (await make_appeal("assigned", OTHER, rules=rules)).appeal
    await merging.merge(main, [member], await dispatcher())
    await _as(client, Role.HANDLER, OWN)
    page = await client.get(f"/staff/appeals/{member.tracking_number}")
    assert page.status_code == 200
    assert 'id="acknowledge"' not in page.text and 'id="unmerge-form"' not in page.text
    refused = await post_form(client, f"/staff/appeals/{member.tracking_number}/acknowledge",
                              {}, f"/staff/appeals/{member.tracking_number}")
    assert refused.status_code == 409
    assert (await Appeal.get(id=member.id)).status == "assigned"
    page = await client.get(f"/staff/appeals/{main.tracking_number}")
    assert 'id="acknowledge"' in page.text and 'id="merge-form"' not in page.text


async def test_the_members_resident_reads_that_it_is_handled_together(client, rules):
    main = (await make_appeal("accepted", OWN, rules=rules)).appeal
    made = await make_appeal("assigned", OTHER, rules=rules)
    await merging.merge(main, [made.appeal], await dispatcher())
    logged = await post_form(client, "/track", {"username": made.receipt["username"],
                                                "password": made.receipt["password"]}, "/track")
    assert logged.status_code == 303
    page = await client.get("/track/appeal")
    assert 'id="merged-notice"' in page.text
    assert main.contact_phone not in page.text
