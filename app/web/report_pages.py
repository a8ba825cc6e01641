"""/staff/report: the monthly report, as a printable page or (format=xlsx) a workbook."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.models import Account
from app.services import report, stats
from app.services.detectors import UNASSIGNED
from app.web.context import rules_of
from app.web.render import render
from app.web.staff import staff_route


@staff_route("report")
async def report_page(request: Request, account: Account) -> Response:
    now = datetime.now(UTC)
    params = request.query_params
    month, errors = report.month_of(params.get("month"), now)
    rank = params.get("rank", "reply")
    if rank not in stats.RANKABLE:
        errors["rank"] = "排名依据无效，已按按时答复率排名。"
        rank = "reply"
    fmt = params.get("format", "")
    if fmt == "xlsx" and errors:
        # A report of another month than the one asked for must not leave as a file.
        message = "未导出：" + "；".join(errors.values())
        return render(request, "error.html", {"message": message}, status=400)
    if fmt and fmt != "xlsx":
        errors["format"] = "月度报告只能导出为 XLSX。"
    found = await report.monthly(month, now, rules_of(request), rank)
    if fmt == "xlsx":
        return await _workbook(account, found, now)
    return render(request, "staff_report.html", {
        "report": found, "errors": errors,
        "rates": stats.RATES, "rank_title": stats.RATE_BY_KEY[rank].title,
        "outcomes": report.OUTCOMES, "unassigned": UNASSIGNED,
        "hotspot_note": report.HOTSPOT_NOTE,
    })


async def _workbook(account: Account, found: report.Report, now: datetime) -> Response:
    entry = await report.start_record(account, found, now)
    content = await report.xlsx(found)
    await report.finish_record(entry, found.rows)
    name = f"monthly-report-{found.month:%Y-%m}.xlsx"
    return Response(content, media_type=report.XLSX_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


routes = [
    Route("/staff/report", report_page, name="report"),
]
