"""An export (app.services.exports) as the file a page's `format=csv|xlsx` asks for."""

from __future__ import annotations

import os
from collections.abc import Mapping

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse

from app.models import AuditEntry
from app.services import exports
from app.web.render import render

# The parameters a refused export names (those of the detectors' and statistics' pages).
LABELS = {**exports.SCOPE_LABELS, "period": "时间段", "rank": "排名依据"}


def batch_size(request: Request) -> int:
    return getattr(request.app.state, "export_batch_size", exports.BATCH_SIZE)


def refused(request: Request, errors: Mapping[str, str]) -> Response | None:
    """A page's parameters that went wrong would widen (or reorder) the export: none is
    made, and the error page names them. A bad page cursor does not matter to a file."""
    wrong = [LABELS.get(name, name) for name in errors if name != "after"]
    if not wrong:
        return None
    message = f"未导出：条件无效（{'、'.join(wrong)}），请在页面上改正后再导出。"
    return render(request, "error.html", {"message": message}, status=400)


async def download(sheet: exports.Sheet, entry: AuditEntry, fmt: str, name: str) -> Response:
    if fmt == "csv":
        return StreamingResponse(
            exports.csv_stream(sheet, entry), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"',
                     "Cache-Control": "no-store"})
    path = await exports.xlsx_file(sheet, entry)
    return FileResponse(path, media_type=exports.XLSX_TYPE, filename=name,
                        headers={"Cache-Control": "no-store"},
                        background=BackgroundTask(os.unlink, path))
