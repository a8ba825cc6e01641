"""Who may open which staff page and act on which appeal.

The route x role table below is written out by hand on purpose: it is the contract, and a
change in app/web/access.py that widens (or narrows) access must fail here until the table
is changed too. A record someone may not see answers 404."""

from __future__ import annotations

import html
import io
import re

import openpyxl
import pytest

from app.domain.attachments import Occasion
from app.domain.types import Role
from app.models import Appeal, AppealEvent, AuditEntry, Department, RulesVersion
from app.schemas import staff as forms
from app.schemas.base import parse
from app.services import accounts, api_clients, attachments, audit_log, merging, supervision
from app.services import publication as publication_service
from app.services.workflow import Actor
from app.web import (
    admin,
    admin_api_clients,
    admin_reference,
    attachment_pages,
    benefit_pages,
    desk,
    followup_pages,
    hotspot_pages,
    model_pages,
    public_pages,
    publication_pages,
    reply_pages,
    report_pages,
    reveal_pages,
    search_pages,
    staff,
    stats_pages,
)
from app.web.security import SESSION_COOKIE
from tests import factories
from tests.conftest import (
    GOOD_APPEAL,
    login,
    make_client,
    make_staff,
    post_form,
    submit_appeal,
    unique,
)
from tests.factories import handler_of, make_appeal

OWN = "990100-zhujian"      # where GOOD_APPEAL is routed
OTHER = "990100-jiaoyu"     # some other department in the same city
ROUTE_TO = "990100-renshe"  # where the dispatcher sends it in the "route" cells

ROLES = ("anonymous", "tracker", "resident_account", "handler_own", "handler_other",
         "dispatcher", "inspector", "admin", "head")

# Outcomes.
LOGIN = "login"          # 303 to /login, nothing done
NF = "404"               # 404, nothing shown, nothing done
NA = "405"               # wrong method, nothing done
LISTED = "200+"          # 200 and the appeal is on the page
UNLISTED = "200-"        # 200 and the appeal is not on the page
PAGE = "200"             # 200 (a page with no appeal on it)
ACT = "act"              # 303 back, and the action happened
NO_DESK = "no-desk"      # 200, "此账号没有可用的工作台"
WORKBOOK = "xlsx+"       # 200, an XLSX file and the appeal is in it
BLIND = "200 blind"      # 200, and neither the appeal's number nor its title on the page
DONE = "done"            # 200 or 303, and the administrative action is in the audit log
WORKBOOK_WITHOUT = "xlsx-"  # 200, an XLSX file and the appeal is not in it
SHEET = "xlsx"           # 200, an XLSX file (a table with no appeal in it)
BOOK = "xlsx"            # 200, an XLSX file (the monthly report: last month, no such appeal)
REFUSED = "400 refused"  # 400, the form's refusal said on the page, nothing done or shown
REVEALED = "revealed"    # 200 no-store, the value in clear on the page, a reveal event added


def to(path: str) -> str:
    return "->" + path   # 303 to this path


N = "{n}"  # the appeal's tracking number
A = "{a}"  # a staff account's id (a handler of OWN, made for the cell)
F = "{f}"  # an attachment of the cell's appeal (a picture its resident sent)
K = "{k}"  # an Open311 client application, its key issued for the cell
HS = "{h}"  # a hotspot (未诉先办) whose one member is the cell's appeal
FILE = "file"  # 200, the attachment's bytes, as its type, with nosniff
# Columns in the order of ROLES: anonymous, tracker, resident_account, handler_own,
# handler_other, dispatcher, inspector, admin.
MATRIX: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/staff"):                      (LOGIN, LOGIN, NO_DESK,
                                             to("/staff/queue"), to("/staff/queue"),
                                             to("/staff/triage"), to("/staff/appeals"),
                                             to("/admin/"), to("/staff/queue")),
    ("GET", "/staff/queue"):                (LOGIN, LOGIN, NF, LISTED, UNLISTED, NF, NF, NF, LISTED),
    ("GET", "/staff/triage"):               (LOGIN, LOGIN, NF, NF, NF, PAGE, NF, NF, NF),
    ("GET", "/staff/appeals"):              (LOGIN, LOGIN, NF, NF, NF, NF, LISTED, NF, NF),
    ("GET", "/staff/returns"):              (LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF, NF),
    # Issue 10: detectors, for inspectors and dispatchers; a handler's department is no
    # door in (404 whatever the parameters).
    ("GET", "/staff/detectors"):            (LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF, NF),
    ("GET", f"/staff/detectors?department={OWN}"): (LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF, NF),
    ("GET", "/staff/detectors/list?detector=ping-pong"): (LOGIN, LOGIN, NF, NF, NF, PAGE,
                                                          PAGE, NF, NF),
    ("GET", f"/staff/detectors/list?detector=no-contact&department={OWN}"): (
        LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF, NF),
    # Issue 10: statistics; a handler sees their own department only, whatever is asked.
    ("GET", "/staff/stats"):                (LOGIN, LOGIN, NF, PAGE, PAGE, PAGE, PAGE, NF, PAGE),
    ("GET", f"/staff/stats/list?figure=received&department={OWN}"): (
        LOGIN, LOGIN, NF, LISTED, UNLISTED, LISTED, LISTED, NF, LISTED),
    ("GET", "/staff/stats/list?figure=received"): (LOGIN, LOGIN, NF, LISTED, UNLISTED, LISTED,
                                                   LISTED, NF, LISTED),
    # The misroute table's lists: whoever sees that table (city-wide), not a department.
    ("GET", "/staff/stats/list?figure=misroute_auto"): (LOGIN, LOGIN, NF, NF, NF, LISTED,
                                                        LISTED, NF, NF),
    ("GET", "/staff/stats/list?figure=misroute_corrected&first_level=城乡建设"): (
        LOGIN, LOGIN, NF, NF, NF, UNLISTED, UNLISTED, NF, NF),
    # Issue 10: the monthly report, page and XLSX (audited), for inspectors and dispatchers.
    ("GET", "/staff/report"):               (LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF, NF),
    ("GET", "/staff/report?month=2016-05"): (LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF, NF),
    ("GET", "/staff/report?format=xlsx"):   (LOGIN, LOGIN, NF, NF, NF, BOOK, BOOK, NF, NF),
    # Issue 10: the city-wide list leaves the platform only as an inspector's export.
    ("GET", "/staff/appeals?format=csv"):   (LOGIN, LOGIN, NF, NF, NF, NF, LISTED, NF, NF),
    ("GET", "/staff/appeals?format=xlsx"):  (LOGIN, LOGIN, NF, NF, NF, NF, WORKBOOK, NF, NF),
    ("GET", "/staff/audit/exports"):        (LOGIN, LOGIN, NF, NF, NF, NF, PAGE, NF, NF),
    # Each page's own export (format=csv|xlsx): the page's roles, of what it shows them.
    ("GET", "/staff/stats?format=csv"):     (LOGIN, LOGIN, NF, PAGE, PAGE, PAGE, PAGE, NF, PAGE),
    ("GET", "/staff/stats?format=xlsx"):    (LOGIN, LOGIN, NF, SHEET, SHEET, SHEET, SHEET, NF, SHEET),
    ("GET", "/staff/stats/list?figure=received&format=csv"): (
        LOGIN, LOGIN, NF, LISTED, UNLISTED, LISTED, LISTED, NF, LISTED),
    ("GET", "/staff/stats/list?figure=received&format=xlsx"): (
        LOGIN, LOGIN, NF, WORKBOOK, WORKBOOK_WITHOUT, WORKBOOK, WORKBOOK, NF, WORKBOOK),
    ("GET", "/staff/stats/list?figure=misroute_auto&format=xlsx"): (
        LOGIN, LOGIN, NF, NF, NF, WORKBOOK, WORKBOOK, NF, NF),
    ("GET", "/staff/detectors/list?detector=ping-pong&format=csv"): (
        LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF, NF),
    ("GET", "/staff/detectors/list?detector=ping-pong&format=xlsx"): (
        LOGIN, LOGIN, NF, NF, NF, SHEET, SHEET, NF, NF),
    ("GET", f"/staff/appeals/{N}"):         (LOGIN, LOGIN, NF, LISTED, NF, LISTED, LISTED, NF, LISTED),
    ("POST", f"/staff/appeals/{N}/acknowledge"): (LOGIN, LOGIN, NF, ACT, NF, NF, NF, NF, ACT),
    ("POST", f"/staff/appeals/{N}/reply"):  (LOGIN, LOGIN, NF, ACT, NF, NF, NF, NF, ACT),
    ("POST", f"/staff/appeals/{N}/return"): (LOGIN, LOGIN, NF, ACT, NF, NF, NF, NF, ACT),
    ("POST", f"/staff/appeals/{N}/route"):  (LOGIN, LOGIN, NF, NF, NF, ACT, NF, NF, NF),
    # 并单 (issue 15): the desk merges into the cell's appeal, and undoes a merge of it.
    ("POST", f"/staff/appeals/{N}/merge"):  (LOGIN, LOGIN, NF, NF, NF, ACT, NF, NF, NF),
    ("POST", f"/staff/appeals/{N}/unmerge"): (LOGIN, LOGIN, NF, NF, NF, ACT, NF, NF, NF),
    ("GET", f"/staff/appeals/{N}/merge"):   (NA,) * 9,
    ("GET", f"/staff/appeals/{N}/unmerge"): (NA,) * 9,
    # 不予受理: the dispatcher's alone (a handler returns, an inspector supervises).
    ("POST", f"/staff/appeals/{N}/reject"): (LOGIN, LOGIN, NF, NF, NF, ACT, NF, NF, NF),
    ("POST", f"/staff/appeals/{N}/ask-info"): (LOGIN, LOGIN, NF, ACT, NF, NF, NF, NF, ACT),
    ("POST", f"/staff/appeals/{N}/extension"): (LOGIN, LOGIN, NF, ACT, NF, NF, NF, NF, ACT),
    # Issue 5: a dispatcher or an inspector, never the requester, decides an extension.
    # (DESIGN.md has the inspector change no appeal; the issue, more specific, wins here.)
    # Issue 11: so does the head of the appeal's department (never of their own request).
    ("POST", f"/staff/appeals/{N}/extension/decision"): (LOGIN, LOGIN, NF, NF, NF, ACT, ACT,
                                                         NF, ACT),
    # 督办 (issue 10): listed for the three staff roles, a handler only their department's;
    # an inspector issues, closes and re-issues, the department's handler answers (反馈).
    ("GET", "/staff/supervision"):          (LOGIN, LOGIN, NF, LISTED, UNLISTED, LISTED,
                                             LISTED, NF, LISTED),
    ("POST", f"/staff/appeals/{N}/supervise"): (LOGIN, LOGIN, NF, NF, NF, NF, ACT, NF, NF),
    ("POST", f"/staff/appeals/{N}/supervision/answer"): (LOGIN, LOGIN, NF, ACT, NF, NF, NF,
                                                         NF, ACT),
    ("POST", f"/staff/appeals/{N}/supervision/close"): (LOGIN, LOGIN, NF, NF, NF, NF, ACT, NF, NF),
    ("POST", f"/staff/appeals/{N}/supervision/reissue"): (LOGIN, LOGIN, NF, NF, NF, NF, ACT,
                                                          NF, NF),
    # 催办: an inspector or a dispatcher.
    ("POST", f"/staff/appeals/{N}/remind"): (LOGIN, LOGIN, NF, NF, NF, ACT, ACT, NF, NF),
    # Issue 11, the hotline desk: a dispatcher takes a call (the cell's POST takes one: a
    # receipt page, the cell's appeal untouched); extension requests waiting for whoever
    # decides them (a head: their department's); 回访 calls after closing, dispatchers'.
    ("GET", "/staff/intake"):               (LOGIN, LOGIN, NF, NF, NF, PAGE, NF, NF, NF),
    ("POST", "/staff/intake"):              (LOGIN, LOGIN, NF, NF, NF, PAGE, NF, NF, NF),
    ("GET", "/staff/extensions"):           (LOGIN, LOGIN, NF, NF, NF, LISTED, LISTED, NF,
                                             LISTED),
    ("GET", "/staff/followup"):             (LOGIN, LOGIN, NF, NF, NF, LISTED, NF, NF, NF),
    ("GET", f"/staff/appeals/{N}/followup"): (LOGIN, LOGIN, NF, NF, NF, LISTED, NF, NF, NF),
    ("POST", f"/staff/appeals/{N}/followup"): (LOGIN, LOGIN, NF, NF, NF, ACT, NF, NF, NF),
    ("POST", "/staff/extensions"):          (NA,) * 9,
    # Issue 13, the public side: for everyone, logged in or not, and never an appeal that
    # was not published (the cell's is not); read only.
    ("GET", "/public"):                     (BLIND,) * 9,
    ("GET", "/public?q=访问矩阵"):           (BLIND,) * 9,
    ("GET", "/public/stats"):               (BLIND,) * 9,
    ("GET", "/public/data"):                (BLIND,) * 9,
    ("GET", "/public/data/published.csv"):  (BLIND,) * 9,
    ("GET", "/public/data/scorecards.csv"): (BLIND,) * 9,
    ("POST", "/public"):                    (NA,) * 9,
    ("POST", "/public/stats"):              (NA,) * 9,
    ("POST", "/public/data"):               (NA,) * 9,
    ("POST", "/public/data/published.csv"): (NA,) * 9,
    ("POST", "/public/data/scorecards.csv"): (NA,) * 9,
    # Issue 12: search, each role within what it may see (a handler: their department's,
    # never a report naming it); a department's history of its answered appeals.
    ("GET", "/staff/search"):               (LOGIN, LOGIN, NF, PAGE, PAGE, PAGE, PAGE, NF, PAGE),
    ("GET", "/staff/search?q=访问矩阵"):     (LOGIN, LOGIN, NF, LISTED, UNLISTED, LISTED,
                                             LISTED, NF, LISTED),
    ("GET", "/staff/search?type=complaint&region=990100"): (
        LOGIN, LOGIN, NF, LISTED, UNLISTED, LISTED, LISTED, NF, LISTED),
    ("GET", "/staff/search?q=小区&submitted_from=2026-13-01"): (
        LOGIN, LOGIN, NF, PAGE, PAGE, PAGE, PAGE, NF, PAGE),
    ("GET", "/staff/history"):              (LOGIN, LOGIN, NF, LISTED, UNLISTED, NF, NF, NF,
                                             LISTED),
    ("POST", "/staff/search"):              (NA,) * 9,
    ("POST", "/staff/history"):             (NA,) * 9,
    # Issue 12: one masked value revealed with a reason (a handler: of their own department's
    # appeal), shown once; the list of reveals per person, for inspectors.
    ("POST", f"/staff/appeals/{N}/reveal"): (LOGIN, LOGIN, NF, REVEALED, NF, REVEALED,
                                             REVEALED, NF, REVEALED),
    ("GET", f"/staff/appeals/{N}/reveal"):  (NA,) * 9,
    ("GET", "/staff/reveals"):              (LOGIN, LOGIN, NF, NF, NF, NF, PAGE, NF, NF),
    ("GET", "/staff/reveals?staff=nobody&from=2026-13-01"): (LOGIN, LOGIN, NF, NF, NF, NF,
                                                            PAGE, NF, NF),
    ("POST", "/staff/reveals"):             (NA,) * 9,
    ("POST", "/staff/followup"):            (NA,) * 9,
    # Issue 12: attachments, for whoever sees the appeal: its staff, its own resident (by
    # the tracking login, or the account that owns it); everyone else 404.
    ("GET", f"/staff/appeals/{N}/attachments/{F}"): (LOGIN, LOGIN, NF, FILE, NF, FILE, FILE,
                                                     NF, FILE),
    ("GET", f"/track/attachments/{F}"):     (NF, FILE, NF, NF, NF, NF, NF, NF, NF),
    ("GET", f"/account/appeals/{N}/attachments/{F}"): (NF,) * 9,
    ("POST", f"/staff/appeals/{N}/attachments/{F}"): (NA,) * 9,
    ("POST", f"/track/attachments/{F}"):    (NA,) * 9,
    ("POST", f"/account/appeals/{N}/attachments/{F}"): (NA,) * 9,
    # Issue 12 (app.web.reply_pages): the knowledge base, for whoever answers; a department's
    # templates, its head's; the head's review (审核) of a handler's reply, their own
    # department's appeals only. Forms here are refused (they would change what every other
    # cell's pages show); the edits are tests/http/test_reply_tools.py's.
    ("GET", "/staff/knowledge"):            (LOGIN, LOGIN, NF, PAGE, PAGE, PAGE, PAGE, NF, PAGE),
    ("GET", "/staff/knowledge?q=政策&category=没有这类"): (LOGIN, LOGIN, NF, REFUSED, REFUSED,
                                                      REFUSED, REFUSED, NF, REFUSED),
    ("POST", "/staff/knowledge"):           (NA,) * 9,
    ("GET", "/staff/templates"):            (LOGIN, LOGIN, NF, NF, NF, NF, NF, NF, PAGE),
    ("POST", "/staff/templates"):           (LOGIN, LOGIN, NF, NF, NF, NF, NF, NF, REFUSED),
    ("POST", "/staff/templates/remove"):    (LOGIN, LOGIN, NF, NF, NF, NF, NF, NF, REFUSED),
    ("GET", "/staff/templates/remove"):     (NA,) * 9,
    ("POST", f"/staff/appeals/{N}/approve-reply"): (LOGIN, LOGIN, NF, NF, NF, NF, NF, NF, ACT),
    ("POST", f"/staff/appeals/{N}/revise-reply"): (LOGIN, LOGIN, NF, NF, NF, NF, NF, NF, ACT),
    ("GET", f"/staff/appeals/{N}/approve-reply"): (NA,) * 9,
    ("GET", f"/staff/appeals/{N}/revise-reply"): (NA,) * 9,
    ("GET", "/admin/templates"):            (LOGIN, LOGIN, NF, NF, NF, NF, NF, BLIND, NF),
    ("POST", "/admin/templates"):           (LOGIN, LOGIN, NF, NF, NF, NF, NF, REFUSED, NF),
    ("POST", "/admin/templates/remove"):    (LOGIN, LOGIN, NF, NF, NF, NF, NF, REFUSED, NF),
    ("GET", "/admin/templates/remove"):     (NA,) * 9,
    ("GET", "/admin/knowledge"):            (LOGIN, LOGIN, NF, NF, NF, NF, NF, BLIND, NF),
    ("POST", "/admin/knowledge"):           (LOGIN, LOGIN, NF, NF, NF, NF, NF, REFUSED, NF),
    ("POST", "/admin/knowledge/remove"):    (LOGIN, LOGIN, NF, NF, NF, NF, NF, REFUSED, NF),
    ("GET", "/admin/knowledge/remove"):     (NA,) * 9,
    # Issue 13: Open311 client applications' keys, for administrators alone (the POST
    # here sends no name: refused beside the field; issuing is test_open311.py's).
    ("GET", "/admin/api-clients"):          (LOGIN, LOGIN, NF, NF, NF, NF, NF, BLIND, NF),
    ("POST", "/admin/api-clients"):         (LOGIN, LOGIN, NF, NF, NF, NF, NF, REFUSED, NF),
    ("POST", f"/admin/api-clients/{K}/revoke"): (LOGIN, LOGIN, NF, NF, NF, NF, NF,
                                              to("/admin/api-clients"), NF),
    ("GET", f"/admin/api-clients/{K}/revoke"): (NA,) * 9,
    # Issue 11: administration, for administrators alone, and no appeal's content on it.
    ("GET", "/admin/"):                     (LOGIN, LOGIN, NF, NF, NF, NF, NF, BLIND, NF),
    ("GET", "/admin/accounts"):             (LOGIN, LOGIN, NF, NF, NF, NF, NF, BLIND, NF),
    ("GET", f"/admin/accounts?role=handler&department={OWN}&q=handler"): (
        LOGIN, LOGIN, NF, NF, NF, NF, NF, BLIND, NF),
    ("GET", "/admin/accounts/new"):         (LOGIN, LOGIN, NF, NF, NF, NF, NF, BLIND, NF),
    ("POST", "/admin/accounts/new"):        (LOGIN, LOGIN, NF, NF, NF, NF, NF, DONE, NF),
    ("GET", f"/admin/accounts/{A}"):        (LOGIN, LOGIN, NF, NF, NF, NF, NF, BLIND, NF),
    ("POST", f"/admin/accounts/{A}"):       (LOGIN, LOGIN, NF, NF, NF, NF, NF, DONE, NF),
    ("POST", f"/admin/accounts/{A}/disable"): (LOGIN, LOGIN, NF, NF, NF, NF, NF, DONE, NF),
    ("POST", f"/admin/accounts/{A}/reset"): (LOGIN, LOGIN, NF, NF, NF, NF, NF, DONE, NF),
    # The cell's account is active: enabling it is refused beside the form.
    ("POST", f"/admin/accounts/{A}/enable"): (LOGIN, LOGIN, NF, NF, NF, NF, NF, REFUSED, NF),
    # Issue 11: the audit log of administrative actions and exports, read by inspectors.
    ("GET", "/staff/audit"):                (LOGIN, LOGIN, NF, NF, NF, NF, PAGE, NF, NF),
    # Issue 14: the classifier's versions and their log, for inspectors and administrators.
    ("GET", "/staff/models"):               (LOGIN, LOGIN, NF, NF, NF, NF, PAGE, PAGE, NF),
    ("GET", "/staff/audit?action=account_create"): (LOGIN, LOGIN, NF, NF, NF, NF, PAGE, NF,
                                                    NF),
    # Issue 11: reference data. The administrator's forms here are refused (or change
    # nothing): an edit would change the rules under every other test of the session; the
    # edits themselves are tests/http/test_admin_reference.py's, on a database of its own.
    ("GET", "/admin/reference"):            (LOGIN, LOGIN, NF, NF, NF, NF, NF, BLIND, NF),
    ("GET", "/admin/departments"):          (LOGIN, LOGIN, NF, NF, NF, NF, NF, BLIND, NF),
    ("GET", "/admin/departments?region=990121"): (LOGIN, LOGIN, NF, NF, NF, NF, NF, BLIND,
                                                  NF),
    ("POST", f"/admin/departments/{OWN}/deactivate"): (LOGIN, LOGIN, NF, NF, NF, NF, NF,
                                                       REFUSED, NF),
    ("POST", f"/admin/departments/{OWN}/activate"): (LOGIN, LOGIN, NF, NF, NF, NF, NF,
                                                     to("/admin/departments?region=990100"),
                                                     NF),
    ("GET", "/admin/hot-topics"):           (LOGIN, LOGIN, NF, NF, NF, NF, NF, BLIND, NF),
    ("POST", "/admin/hot-topics"):          (LOGIN, LOGIN, NF, NF, NF, NF, NF, REFUSED, NF),
    ("GET", "/admin/calendar"):             (LOGIN, LOGIN, NF, NF, NF, NF, NF, BLIND, NF),
    ("POST", "/admin/calendar"):            (LOGIN, LOGIN, NF, NF, NF, NF, NF, REFUSED, NF),
    ("POST", "/admin/calendar/remove"):     (LOGIN, LOGIN, NF, NF, NF, NF, NF, REFUSED, NF),
    ("GET", "/admin/routing"):              (LOGIN, LOGIN, NF, NF, NF, NF, NF, BLIND, NF),
    ("POST", "/admin/routing/keywords"):    (LOGIN, LOGIN, NF, NF, NF, NF, NF, REFUSED, NF),
    ("POST", "/admin/routing/categories"):  (LOGIN, LOGIN, NF, NF, NF, NF, NF, REFUSED, NF),
    ("POST", "/admin/reference"):           (NA,) * len(ROLES),
    ("POST", "/admin/departments"):         (NA,) * len(ROLES),
    ("GET", f"/admin/departments/{OWN}/deactivate"): (NA,) * len(ROLES),
    ("GET", f"/admin/departments/{OWN}/activate"): (NA,) * len(ROLES),
    # Issue 12: the head's review of replies, on or off (refused here: no `review` sent).
    ("POST", f"/admin/departments/{OWN}/review"): (LOGIN, LOGIN, NF, NF, NF, NF, NF, REFUSED,
                                                   NF),
    ("GET", f"/admin/departments/{OWN}/review"): (NA,) * len(ROLES),
    ("GET", "/admin/calendar/remove"):      (NA,) * len(ROLES),
    ("POST", "/admin/routing"):             (NA,) * len(ROLES),
    ("GET", "/admin/routing/keywords"):     (NA,) * len(ROLES),
    ("GET", "/admin/routing/categories"):   (NA,) * len(ROLES),
    ("POST", "/admin/"):                    (NA,) * len(ROLES),
    ("POST", "/admin/accounts"):            (NA,) * len(ROLES),
    ("GET", f"/admin/accounts/{A}/disable"): (NA,) * len(ROLES),
    ("GET", f"/admin/accounts/{A}/reset"):  (NA,) * len(ROLES),
    ("GET", f"/admin/accounts/{A}/enable"): (NA,) * len(ROLES),
    ("POST", "/staff/audit"):               (NA,) * len(ROLES),
    ("POST", "/staff/models"):              (NA,) * len(ROLES),
    # Issue 15 (app.web.hotspot_pages): hotspots and their appeals, for dispatchers and
    # inspectors, city-wide.
    ("GET", "/staff/hotspots"):             (LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF, NF),
    ("GET", "/staff/hotspots?period=30"):   (LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF, NF),
    ("GET", f"/staff/hotspots/{HS}"):       (LOGIN, LOGIN, NF, NF, NF, LISTED, LISTED, NF, NF),
    ("POST", "/staff/hotspots"):            (NA,) * len(ROLES),
    ("POST", f"/staff/hotspots/{HS}"):      (NA,) * len(ROLES),
    # Issue 13 (app.web.benefit_pages): 还利于民. The appeal's department records an entry
    # on a replied appeal (an event, the appeal stays replied); inspectors list the entries
    # and decide (the cell's form names no entry: refused beside it, nothing decided); the
    # public totals are open to everyone.
    ("POST", f"/staff/appeals/{N}/benefits"): (LOGIN, LOGIN, NF, ACT, NF, NF, NF, NF, ACT),
    ("GET", f"/staff/appeals/{N}/benefits"): (NA,) * len(ROLES),
    ("GET", "/staff/benefits"):             (LOGIN, LOGIN, NF, NF, NF, NF, PAGE, NF, NF),
    ("GET", "/staff/benefits?status=rejected&after=x"): (LOGIN, LOGIN, NF, NF, NF, NF, PAGE,
                                                         NF, NF),
    ("POST", "/staff/benefits"):            (NA,) * len(ROLES),
    ("POST", "/staff/benefits/decision"):   (LOGIN, LOGIN, NF, NF, NF, NF, REFUSED, NF, NF),
    ("GET", "/staff/benefits/decision"):    (NA,) * len(ROLES),
    ("GET", "/public/benefits"):            (PAGE,) * len(ROLES),
    ("GET", "/public/benefits?year=2011"):  (PAGE,) * len(ROLES),
    ("POST", "/public/benefits"):           (NA,) * len(ROLES),
    # Issue 13 (app.web.publication_pages): published replies, approved and taken down by a
    # dispatcher or an inspector, never by the department (not even its head) nor an admin.
    # The cell's appeal is made public (and, to take down, published) first. The resident
    # withdraws consent from the tracking page, or from their account's page of an appeal
    # they own (the cell's appeal has no owner account: 404 for all).
    ("GET", "/staff/publication"):          (LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF, NF),
    ("GET", "/staff/publication?after=x"):  (LOGIN, LOGIN, NF, NF, NF, PAGE, PAGE, NF, NF),
    ("GET", f"/staff/publication/{N}"):     (LOGIN, LOGIN, NF, NF, NF, LISTED, LISTED, NF, NF),
    ("POST", f"/staff/publication/{N}/approve"): (LOGIN, LOGIN, NF, NF, NF, ACT, ACT, NF, NF),
    ("POST", f"/staff/publication/{N}/unpublish"): (LOGIN, LOGIN, NF, NF, NF, ACT, ACT, NF,
                                                    NF),
    ("POST", "/track/consent-withdrawal"):  (to("/track"), ACT, to("/track"), to("/track"),
                                             to("/track"), to("/track"), to("/track"),
                                             to("/track"), to("/track")),
    ("POST", f"/account/appeals/{N}/consent-withdrawal"): (NF,) * len(ROLES),
    ("POST", "/staff/publication"):         (NA,) * len(ROLES),
    ("POST", f"/staff/publication/{N}"):    (NA,) * len(ROLES),
    ("GET", f"/staff/publication/{N}/approve"): (NA,) * len(ROLES),
    ("GET", f"/staff/publication/{N}/unpublish"): (NA,) * len(ROLES),
    ("GET", "/track/consent-withdrawal"):   (NA,) * len(ROLES),
    ("GET", f"/account/appeals/{N}/consent-withdrawal"): (NA,) * len(ROLES),
    # The other method on every route: refused before anyone's role is even looked at.
    ("POST", "/staff"):                     (NA,) * len(ROLES),
    ("POST", "/staff/queue"):               (NA,) * len(ROLES),
    ("POST", "/staff/triage"):              (NA,) * len(ROLES),
    ("POST", "/staff/appeals"):             (NA,) * len(ROLES),
    ("POST", "/staff/returns"):             (NA,) * len(ROLES),
    ("POST", "/staff/detectors"):           (NA,) * len(ROLES),
    ("POST", "/staff/detectors/list"):      (NA,) * len(ROLES),
    ("POST", "/staff/stats"):               (NA,) * len(ROLES),
    ("POST", "/staff/stats/list"):          (NA,) * len(ROLES),
    ("POST", "/staff/report"):              (NA,) * len(ROLES),
    ("POST", "/staff/audit/exports"):       (NA,) * len(ROLES),
    ("POST", f"/staff/appeals/{N}"):        (NA,) * len(ROLES),
    ("POST", "/staff/supervision"):         (NA,) * len(ROLES),
    ("GET", f"/staff/appeals/{N}/supervise"): (NA,) * len(ROLES),
    ("GET", f"/staff/appeals/{N}/supervision/answer"): (NA,) * len(ROLES),
    ("GET", f"/staff/appeals/{N}/supervision/close"): (NA,) * len(ROLES),
    ("GET", f"/staff/appeals/{N}/supervision/reissue"): (NA,) * len(ROLES),
    ("GET", f"/staff/appeals/{N}/remind"):  (NA,) * len(ROLES),
    ("GET", f"/staff/appeals/{N}/acknowledge"): (NA,) * len(ROLES),
    ("GET", f"/staff/appeals/{N}/reply"):   (NA,) * len(ROLES),
    ("GET", f"/staff/appeals/{N}/return"):  (NA,) * len(ROLES),
    ("GET", f"/staff/appeals/{N}/route"):   (NA,) * len(ROLES),
    ("GET", f"/staff/appeals/{N}/reject"):  (NA,) * len(ROLES),
    ("GET", f"/staff/appeals/{N}/ask-info"): (NA,) * len(ROLES),
    ("GET", f"/staff/appeals/{N}/extension"): (NA,) * len(ROLES),
    ("GET", f"/staff/appeals/{N}/extension/decision"): (NA,) * len(ROLES),
}

# The state each action needs, the form that would make it succeed, and what it leaves
# (a page named like an action, /staff/extensions or .../followup, needs the same state).
NEEDS_STATE = {"acknowledge": "assigned", "reply": "accepted", "return": "assigned",
               "route": "assigned", "ask-info": "accepted", "extension": "accepted",
               "decision": "extension_requested", "reject": "triage",
               "extensions": "extension_requested", "followup": "closed",
               "history": "replied", "approve-reply": "review", "revise-reply": "review",
               "benefits": "replied", "approve": "replied", "unpublish": "replied"}
FORM = {
    "acknowledge": {},
    "reply": {"reply": "经核查，已责令施工单位夜间停止作业，并安排人员巡查。"},
    "return": {"reason": "该事项不属于本部门职责，请重新分派。"},
    "route": {"department": ROUTE_TO, "note": "改派"},
    "ask-info": {"question": "请补充工地的具体位置和施工单位名称。"},
    "extension": {"days": "2", "reason": "需要会同城管部门现场勘查。"},
    "decision": {"decision": "grant", "note": "同意延期"},
    "reject": {"reason": "other_channel", "explanation": "该事项已进入诉讼程序。"},
    "followup": {"reached": "yes", "solved": "solved", "satisfaction": "satisfied"},
    "reveal": {"choice": "phone:0", "reason": "callback"},
    "approve-reply": {},
    "revise-reply": {"note": "请写明维修完成的时间。"},
    "approve": {"title": "访问矩阵公开标题", "question": "小区夜间施工噪音扰民。",
                "reply": "已责令施工单位夜间停工。"},
    "unpublish": {"reason": "访问矩阵撤下"},
    "consent-withdrawal": {},
    "unmerge": {"reason": "访问矩阵撤销并单"},
    "benefits": {"kind": "refund", "amount": "120.50", "people": "1",
                 "evidence": "访问矩阵退费凭证"},
    "intake": {"type": "consultation", "region": "990100", "title": "来电咨询社保卡补办",
               "body": "来电人询问社保卡丢失后到哪里补办，需要带什么材料，多久能拿到。",
               "contact_phone": "13912345678", "department": ""},
}
AFTER = {
    "acknowledge": ("accepted", OWN),
    "reply": ("replied", OWN),
    "return": ("triage", None),
    "route": ("assigned", ROUTE_TO),
    "ask-info": ("awaiting_info", OWN),
    "extension": ("accepted", OWN),
    "decision": ("accepted", OWN),
    "reject": ("rejected", None),
    "followup": ("closed", OWN),
    "approve-reply": ("replied", OWN),
    "revise-reply": ("accepted", OWN),
    "benefits": ("replied", OWN),
    "approve": ("replied", OWN),
    "unpublish": ("replied", OWN),
    "consent-withdrawal": ("assigned", OWN),
    "merge": ("assigned", OWN),
    "unmerge": ("assigned", OWN),
}
# 督办 and 催办 cells: the order the appeal must already have, the form, the trail event
# (the appeal's status and department stay as they were: "assigned" with OWN).
ORDER_NEEDED = {"answer": "issued", "close": "answered", "reissue": "answered",
                "supervision": "issued"}
ORDER_FORM = {
    "supervise": {"reason": "群众反映强烈，请加快办理。", "days": "3"},
    "answer": {"answer": "已约谈施工单位负责人，夜间施工已全部停止。"},
    "close": {"note": "反馈属实，结束督办。"},
    "reissue": {"reason": "反馈不具体，请说明整改时间。", "days": "2"},
    "remind": {"note": "请尽快答复。"},
}
AFTER.update(dict.fromkeys(ORDER_FORM, ("assigned", OWN)))
ORDER_EVENT = {"supervise": "supervise", "answer": "supervision_answer",
               "close": "supervision_close", "reissue": "supervision_reissue",
               "remind": "remind"}

EVENT = {"acknowledge": "acknowledge", "reply": "reply", "return": "return",
         "route": "route_manual", "ask-info": "ask_info", "extension": "extension_request",
         "decision": "extension_grant", "reject": "reject", "followup": "followup",
         "approve-reply": "approve_reply", "revise-reply": "revise_reply",
         "benefits": "benefit_record", "approve": "published", "unpublish": "unpublished",
         "consent-withdrawal": "consent_withdrawn", "merge": "merge_main",
         "unmerge": "unmerged"}
EVENT.update(ORDER_EVENT)
# Administrative cells: the form, and the audit entry the action leaves.
ADMIN_FORM = {
    "new": {"username": unique("matrix-new"), "role": "handler", "department": OWN,
            "name": "新建办理人"},
    A: {"role": "head", "department": OWN, "name": "改任负责人"},
    "disable": {}, "reset": {}, "enable": {},
    # Reference data: forms each refused, beside a field (REFUSED).
    "deactivate": {"reason": ""},
    "hot-topics": {"action": "up", "topic": "惠农政策落实"},
    "calendar": {"date": "2026-02-30", "working": "holiday", "reason": "访问矩阵"},
    "remove": {"date": "2031-01-02"},
    "keywords": {"action": "add", "name": "", "words": "访问矩阵", "department": "zhujian"},
    "categories": {"category": "城乡建设", "department": "nosuch"},
}
ADMIN_ACTION = {"new": "account_create", A: "account_change", "disable": "account_disable",
                "reset": "account_reset"}


def test_matrix_covers_every_staff_route_and_method():
    """A new staff route (or method) must be added to the table before this passes; a row
    with a query string (an export) covers its route too."""
    served = set()
    for route in [*staff.routes, *stats_pages.routes, *report_pages.routes, *admin.routes,
                  *desk.routes, *followup_pages.routes, *admin_reference.routes,
                  *reveal_pages.routes, *search_pages.routes, *reply_pages.routes,
                  *attachment_pages.routes, *benefit_pages.routes, *admin_api_clients.routes,
                  *public_pages.routes, *publication_pages.routes, *model_pages.routes,
                  *hotspot_pages.routes]:
        path = route.path.replace("{tracking_number}", N).replace("{account_id:int}", A) \
            .replace("{code}", OWN).replace("{attachment_id:int}", F) \
            .replace("{client_id:int}", K).replace("{hotspot_id}", HS)
        methods = (route.methods or {"GET"}) - {"HEAD"}
        for method in methods:
            served.add((method, path))
            other = "POST" if method == "GET" else "GET"
            served.add((other, path))
    assert served == {(method, path.split("?")[0]) for method, path in MATRIX}
    assert all(len(row) == len(ROLES) for row in MATRIX.values())


@pytest.fixture(scope="module")
async def staff_clients(app, database):
    """One logged-in browser per staff role, shared by the module's cells."""
    made = {}
    for key, role, department in (
        ("handler_own", Role.HANDLER, OWN),
        ("handler_other", Role.HANDLER, OTHER),
        ("dispatcher", Role.DISPATCHER, None),
        ("inspector", Role.INSPECTOR, None),
        ("admin", Role.ADMIN, None),
        ("head", Role.HEAD, OWN),
    ):
        client = make_client(app)
        await login(client, await make_staff(role, department))
        made[key] = client
    # A colleague in OWN who brings appeals into the state a cell needs.
    await make_staff(Role.HANDLER, OWN)
    # A resident *account* (not a tracker): the login form refuses it, so open its session
    # the way a future resident login would.
    resident = await accounts.create_account(unique("resident"), "resident-password-1",
                                             Role.RESIDENT)
    client = make_client(app)
    client.cookies.set(SESSION_COOKIE, await accounts.open_session(account=resident))
    made["resident_account"] = client
    yield made
    for client in made.values():
        await client.aclose()


MATRIX_PICTURE = bytes.fromhex(  # a 1x1 PNG, as Pillow re-encodes it
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415478"
    "9c63f8cfc0000003010100c9fe92ef0000000049454e44ae426082")


async def _attach(app, appeal: Appeal) -> int:
    """A picture on `appeal`, as its resident's submission would have left it."""
    cleaned = attachments.clean(attachments.Sent("现场.png", MATRIX_PICTURE))
    settings = app.state.settings
    await attachments.Store(settings.attachments_dir).put_all([cleaned])
    rows = attachments.rows([cleaned], account=None, role="resident",
                            occasion=Occasion.SUBMISSION)
    await attachments.insert(rows, appeal.id)
    return rows[0].id


async def _give_order(app, appeal: Appeal, status: str) -> None:
    """A 督办 order on `appeal`, issued, or issued and answered by its department."""
    inspector = Actor.of(await factories.make_staff(Role.INSPECTOR))
    await supervision.issue(app.state.rules, appeal, inspector,
                            parse(forms.Supervise, ORDER_FORM["supervise"]))
    if status == "answered":
        await supervision.answer(appeal, await handler_of(OWN),
                                 parse(forms.SupervisionAnswer, ORDER_FORM["answer"]))


async def _hotspot_of(appeal: Appeal) -> int:
    """A hotspot holding `appeal`, as a build leaves one."""
    from datetime import UTC, datetime

    from app.models import Hotspot, HotspotMember

    now = datetime.now(UTC)
    hotspot = await Hotspot.create(period_days=7, region_id=appeal.region_id, label="访问矩阵",
                                   appeal_count=1, people=1, first_seen_at=now, computed_at=now)
    await HotspotMember.create(hotspot_id=hotspot.id, appeal_id=appeal.id)
    return hotspot.id


PUBLICATION_NEEDED = ("approve", "unpublish", "consent-withdrawal")


async def _publishable(appeal: Appeal, action: str) -> None:
    """The resident agreed to publish `appeal`; to take it down, it is published."""
    await Appeal.filter(id=appeal.id).update(is_public=True)
    appeal.is_public = True
    if action == "unpublish":
        approver = Actor.of(await factories.make_staff(Role.DISPATCHER))
        await publication_service.approve(appeal, approver, **FORM["approve"])


async def _snapshot(number: str) -> tuple:
    """(status, department, event kinds, the rest of what an action could change)."""
    appeal = await Appeal.get(tracking_number=number).prefetch_related("department")
    kinds = await AppealEvent.filter(appeal_id=appeal.id).order_by("id") \
        .values_list("kind", flat=True)
    rest = (appeal.reply_due_at, appeal.reply_text, appeal.acknowledged_at,
            appeal.extension_days, appeal.extension_requested_days, appeal.info_request,
            appeal.is_public)
    return (appeal.status, appeal.department.code if appeal.department else None, list(kinds),
            rest)


async def all_pages(client, url: str, first) -> str:
    """The text of a list page and every page after it (a busy queue has many), following
    each page's 下一页 link (a cursor)."""
    texts, response = [first.text], first
    while (found := NEXT_PAGE.search(response.text)) and len(texts) < 500:
        response = await client.get(url + html.unescape(found.group(1)))
        assert response.status_code == 200
        texts.append(response.text)
    return "\n".join(texts)


NEXT_PAGE = re.compile(r'<a href="(\?[^"]*)" rel="next">')


def _cells():
    for (method, path), row in MATRIX.items():
        for role, outcome in zip(ROLES, row, strict=True):
            yield pytest.param(method, path, role, outcome, id=f"{method} {path} {role}")


@pytest.mark.parametrize(("method", "path", "role", "outcome"), list(_cells()))
async def test_route_role_matrix(app, staff_clients, method, path, role, outcome):
    action = path.rsplit("/", 1)[1] if method == "POST" else ""
    made = await make_appeal(NEEDS_STATE.get(action or path.rsplit("/", 1)[1], "assigned"), OWN,
                             rules=app.state.rules,
                             title=unique("访问矩阵"))
    number, title, receipt = made.number, made.appeal.title, made.receipt
    needed = ORDER_NEEDED.get(action or path.rsplit("/", 1)[1])
    if needed:
        await _give_order(app, made.appeal, needed)
    url = path.replace(N, number)
    if A in url:
        url = url.replace(A, str((await factories.make_staff(Role.HANDLER, OWN)).id))
    if F in url:
        url = url.replace(F, str(await _attach(app, made.appeal)))
    if K in url:
        issued, _ = await api_clients.issue(audit_log.CLI, unique("访问矩阵应用"))
        url = url.replace(K, str(issued.id))
    if HS in url:
        url = url.replace(HS, str(await _hotspot_of(made.appeal)))
    if action in PUBLICATION_NEEDED:
        await _publishable(made.appeal, action)
    merge_form = await _merge_preconditions(app, made.appeal, action)
    before = await _snapshot(number)
    last_entry = await AuditEntry.all().order_by("-id").first()
    versions = await RulesVersion.all().count()

    owned = None
    if role in staff_clients:
        client = staff_clients[role]
    else:
        owned = client = make_client(app)
        if role == "tracker":  # the appeal's own resident, logged in on /track
            tracked = await post_form(client, "/track", {"username": receipt["username"],
                                                         "password": receipt["password"]},
                                      "/track")
            assert tracked.status_code == 303
    try:
        if method == "POST":
            form = merge_form or FORM.get(action) or ORDER_FORM.get(action) \
                or ADMIN_FORM.get(action, {})
            response = await post_form(client, url, form, "/submit")
        else:
            response = await client.get(url)
        await _check(client, url, number, title, before, action, response, outcome)
        administered = await AuditEntry.filter(
            id__gt=last_entry.id if last_entry else 0, action__startswith="account_") \
            .values_list("action", flat=True)
        assert list(administered) == ([ADMIN_ACTION[action]] if outcome == DONE else [])
        assert await RulesVersion.all().count() == versions  # no cell changes the rules
    finally:
        if owned is not None:
            await owned.aclose()


async def _merge_preconditions(app, appeal, action: str) -> dict:
    """并单 cells: another appeal to merge into the cell's (its number is the form), or the
    cell's appeal already merged into another (so that it can be undone)."""
    if action not in ("merge", "unmerge"):
        return {}
    other = (await make_appeal("assigned", OWN, rules=app.state.rules,
                               title=unique("并单矩阵"))).appeal
    if action == "merge":
        return {"members": other.tracking_number}
    await merging.merge(other, [appeal], await factories.dispatcher())
    return {}


async def _check(client, url, number, title, before, action, response, outcome) -> None:
    status, location = response.status_code, response.headers.get("location", "")
    after = await _snapshot(number)
    if outcome == REVEALED:
        assert status == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert GOOD_APPEAL["contact_phone"] in response.text
        assert after[:2] == before[:2] and after[3] == before[3]
        assert after[2] == [*before[2], "reveal"]
        return
    if outcome == ACT:
        assert status == 303, response.text
        assert location in (f"/staff/appeals/{number}", "/staff/queue", "/staff/followup",
                            f"/staff/publication/{number}", "/track/appeal")
        assert after[:2] == AFTER[action]
        assert after[2] == [*before[2], EVENT[action]]
        return
    # Every other outcome leaves the appeal exactly as it was.
    assert after == before
    if outcome == FILE:
        assert status == 200, response.text
        assert response.content == MATRIX_PICTURE
        assert response.headers["content-type"] == "image/png"
        assert response.headers["x-content-type-options"] == "nosniff"
        return
    if outcome == LOGIN:
        assert status == 303
        assert location.startswith("/login")
    elif outcome.startswith("->"):
        assert status == 303
        assert location == outcome[2:]
    elif outcome == NF:
        assert status == 404
        assert "页面不存在，或您无权查看。" in response.text
        assert title not in response.text
    elif outcome == NA:
        assert status == 405
        assert title not in response.text
    elif outcome == NO_DESK:
        assert status == 200
        assert "此账号没有可用的工作台" in response.text
    elif outcome == BLIND:
        assert status == 200, response.text
        assert number not in response.text and title not in response.text
    elif outcome == REFUSED:
        assert status == 400, response.text
        assert 'class="error"' in response.text
        assert number not in response.text and title not in response.text
    elif outcome == DONE:
        assert status in (200, 303), response.text
        assert number not in response.text and title not in response.text
    elif outcome == BOOK:
        assert status == 200
        assert openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).sheetnames
    elif outcome in (WORKBOOK, WORKBOOK_WITHOUT, SHEET):
        assert status == 200
        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        cells = {cell for row in book.active.iter_rows(values_only=True) for cell in row}
        if outcome == WORKBOOK:
            assert number in cells and title in cells
        elif outcome == WORKBOOK_WITHOUT:
            assert number not in cells and title not in cells
    else:
        assert status == 200, response.text
        text = await all_pages(client, url.split("?")[0], response)
        if outcome == LISTED:
            assert number in text and title in text
        elif outcome == UNLISTED:
            assert number not in text and title not in text


# --- Reports (举报): never seen by the unit they name --------------------------------------

async def _submit_report(client) -> tuple[str, str]:
    title = unique("举报住建局工作人员索要好处费")
    receipt = await submit_appeal(client, type="report", named_unit=OWN, title=title,
                                  contact_name="王举报", contact_phone="13900001111",
                                  contact_email="whistle@example.com")
    return receipt["number"], title


async def test_report_is_routed_to_discipline_body_not_named_unit(database, client):
    number, _ = await _submit_report(client)
    appeal = await Appeal.get(tracking_number=number).prefetch_related("department",
                                                                       "named_unit")
    assert appeal.status == "assigned"
    assert appeal.department.code == "990100-jiwei"
    assert appeal.named_unit.code == OWN


async def test_handler_of_named_unit_gets_404_for_report(database, new_client):
    resident, named = new_client(), new_client()
    number, title = await _submit_report(resident)
    await login(named, await make_staff(Role.HANDLER, OWN))
    before = await _snapshot(number)

    detail = await named.get(f"/staff/appeals/{number}")
    assert detail.status_code == 404
    assert title not in detail.text
    queue = await all_pages(named, "/staff/queue", await named.get("/staff/queue"))
    assert number not in queue and title not in queue
    page = "/staff/queue"
    for action, data in FORM.items():
        if action == "route":
            continue
        response = await post_form(named, f"/staff/appeals/{number}/{action}", data, page)
        assert response.status_code == 404
    assert await _snapshot(number) == before


async def test_reporter_contact_is_hidden_from_discipline_handler(database, new_client):
    resident, jiwei = new_client(), new_client()
    number, title = await _submit_report(resident)
    await login(jiwei, await make_staff(Role.HANDLER, "990100-jiwei"))
    assert number in await all_pages(jiwei, "/staff/queue", await jiwei.get("/staff/queue"))
    detail = await jiwei.get(f"/staff/appeals/{number}")
    assert detail.status_code == 200
    assert title in detail.text
    assert "举报人信息已依规隐去" in detail.text
    for secret in ("13900001111", "139****1111", "王举报", "whistle@example.com", "whistle"):
        assert secret not in detail.text


async def test_dispatcher_cannot_route_report_to_unit_it_names(database, new_client):
    resident, dispatcher = new_client(), new_client()
    number, _ = await _submit_report(resident)
    await login(dispatcher, await make_staff(Role.DISPATCHER))
    page = f"/staff/appeals/{number}"
    detail = await dispatcher.get(page)
    # The picker offers departments by name (a datalist): not the one the report names.
    named = (await Department.get(code=OWN)).name
    assert f'<option value="{named}">' not in detail.text  # not even offered
    assert f'<option value="{(await Department.get(code="990100-renshe")).name}">' in detail.text
    before = await _snapshot(number)

    response = await post_form(dispatcher, f"{page}/route", {"department": OWN}, page)
    assert response.status_code == 400
    assert "举报件不能交给被举报单位办理" in response.text
    assert await _snapshot(number) == before


async def test_inspector_acts_on_no_appeal_but_extension_decisions(app, database, new_client):
    """Inspectors read everything and change no appeal (DESIGN.md); the one exception is the
    extension decision, which issue 5 gives to a dispatcher or an inspector."""
    inspector = new_client()
    number = (await make_appeal("extension_requested", OWN, rules=app.state.rules)).number
    await login(inspector, await make_staff(Role.INSPECTOR))
    page = f"/staff/appeals/{number}"
    detail = await inspector.get(page)
    assert detail.status_code == 200
    assert f'action="/staff/appeals/{number}/reply"' not in detail.text
    assert f'action="/staff/appeals/{number}/extension/decision"' in detail.text
    before = await Appeal.get(tracking_number=number)
    refused = {}
    # A reveal (issue 12) records who looked, and changes nothing of the appeal either.
    for action, data in FORM.items():
        if action in ("decision", "reveal"):
            continue
        response = await post_form(inspector, f"{page}/{action}", data, page)
        refused[action] = response.status_code
    assert refused == dict.fromkeys(set(FORM) - {"decision", "reveal"}, 404)
    after = await Appeal.get(tracking_number=number)
    assert (after.status, after.department_id, after.reply_text, after.info_request,
            after.extension_requested_days) == (before.status, before.department_id,
                                                before.reply_text, before.info_request,
                                                before.extension_requested_days)


# --- Residents' tracking sessions -------------------------------------------------------

async def _track(client, receipt: dict):
    response = await post_form(client, "/track", {"username": receipt["username"],
                                                  "password": receipt["password"]}, "/track")
    assert response.status_code == 303
    assert response.headers["location"] == "/track/appeal"


async def test_tracking_page_only_shows_its_own_appeal(database, new_client):
    alice, bob = new_client(), new_client()
    alice_title, bob_title = unique("甲的诉求"), unique("乙的诉求")
    alice_receipt = await submit_appeal(alice, title=alice_title)
    bob_receipt = await submit_appeal(bob, title=bob_title)
    await _track(alice, alice_receipt)

    own = await alice.get("/track/appeal")
    assert alice_title in own.text and bob_title not in own.text
    bob_number = bob_receipt["number"]
    for probe in (f"/track/appeal?number={bob_number}",
                  f"/track/appeal?tracking_number={bob_number}",
                  f"/track/appeal?id={bob_number}"):
        page = await alice.get(probe)
        assert page.status_code == 200
        assert alice_title in page.text and bob_title not in page.text
    for probe in (f"/track/appeal/{bob_number}", f"/track/{bob_number}"):
        page = await alice.get(probe)
        assert page.status_code in (404, 405)
        assert bob_title not in page.text


async def test_tracking_password_of_one_appeal_does_not_open_another(database, new_client):
    alice, bob = new_client(), new_client()
    alice_receipt = await submit_appeal(alice, title=unique("甲"))
    bob_receipt = await submit_appeal(bob, title=unique("乙"))
    response = await post_form(bob, "/track", {"username": alice_receipt["username"],
                                               "password": bob_receipt["password"]}, "/track")
    assert response.status_code == 400
    assert "查询账号或密码不正确" in response.text
    assert "ms_track" not in response.headers.get("set-cookie", "")


async def test_tracking_token_does_not_open_staff_pages(database, new_client, app):
    resident = new_client()
    receipt = await submit_appeal(resident, title=unique("跟踪令牌"))
    await _track(resident, receipt)
    token = resident.cookies.get("ms_track")
    assert token
    async with make_client(app) as forged:
        forged.cookies.set(SESSION_COOKIE, token)
        for path in ("/staff", "/staff/queue", f"/staff/appeals/{receipt['number']}"):
            response = await forged.get(path)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login")


async def test_staff_session_token_does_not_open_tracking_page(database, new_client, app):
    handler = new_client()
    await login(handler, await make_staff(Role.HANDLER, OWN))
    async with make_client(app) as forged:
        forged.cookies.set("ms_track", handler.cookies.get(SESSION_COOKIE))
        response = await forged.get("/track/appeal")
        assert response.status_code == 303
        assert response.headers["location"] == "/track"

