"""An independent Open311 client (`georeport`, from PyPI) against `minsheng serve` in its own
process: services, service definitions and requests, in JSON and in XML; POST over plain
HTTP (georeport cannot post). The answers validate against the GeoReport v2 schemas."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from georeport import GeoReport

from app.services import api_clients, audit_log
from tests.conftest import unique
from tests.factories import make_publication
from tests.http import open311_schemas as schemas
from tests.http.test_open311 import GOOD
from tests.live_server import running_server


@pytest.fixture(scope="module")
def live(database):
    """`minsheng serve` on a free port, on the session's database."""
    with running_server(database, "/open311/v2/discovery.json") as base:
        yield base


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_georeport_reads_services_definitions_and_requests(live, fmt):
    published = await make_publication(question="公开的问题：路灯坏了。", reply="已修复。",
                                       category="城乡建设")
    await published.fetch_related("appeal")
    number = published.appeal.tracking_number
    client = GeoReport(f"{live}/open311/v2", output_format=fmt)

    services = await asyncio.to_thread(client.get_service_list)
    if fmt == "json":
        schemas.check_json(services, schemas.SERVICES)
    assert [s["service_code"] for s in services][:2] == ["c01", "c02"]
    assert services[0]["service_name"] == "城乡建设"
    assert str(services[0]["metadata"]).lower() == "true"

    definition = await asyncio.to_thread(client.get_service_definition, "c01")
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = attributes["attribute"]
    else:
        schemas.check_json(definition, schemas.SERVICE_DEFINITION)
    assert definition["service_code"] == "c01"
    assert [a["code"] for a in attributes] == ["type", "region", "public"]

    found = await asyncio.to_thread(client.get_service_requests, service_request_id=number)
    one = await asyncio.to_thread(client.get_service_request, number)
    if fmt == "json":
        schemas.check_json(found, schemas.REQUESTS)
        assert [r["service_request_id"] for r in found] == [number]
    else:  # xmltodict: a single <request> is a dict
        assert found["service_request_id"] == number
    assert one["service_request_id"] == number
    assert one["description"] == "公开的问题：路灯坏了。"
    assert one["status"] == "closed"

    async with httpx.AsyncClient(base_url=live) as raw:
        document = await raw.get(f"/open311/v2/requests/{number}.{fmt}")
        if fmt == "xml":
            schemas.check_xml(document.text, "service_requests")
        else:
            schemas.check_json(document.json(), schemas.REQUESTS)


async def test_post_over_plain_http(live, database):
    _, key = await api_clients.issue(audit_log.CLI, unique("外部应用"))
    async with httpx.AsyncClient(base_url=live) as raw:
        made = await raw.post("/open311/v2/requests.json", data={**GOOD, "api_key": key})
        assert made.status_code == 201, made.text
        schemas.check_json(made.json(), schemas.POSTED)
        number = made.json()[0]["service_request_id"]
        token = made.json()[0]["token"]
        mapped = await raw.get(f"/open311/v2/tokens/{token}.xml")
        root = schemas.check_xml(mapped.text, "service_requests")
        assert root.findtext("request/service_request_id") == number
        refused = await raw.post("/open311/v2/requests.xml", data={**GOOD, "api_key": "nope"})
        assert refused.status_code == 403
        assert schemas.check_xml(refused.text, "errors").findtext("error/code") == "403"
        missing = await raw.post("/open311/v2/requests.json", data={"api_key": key})
        assert missing.status_code == 400
        schemas.check_json(missing.json(), schemas.ERRORS)
