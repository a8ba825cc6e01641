"""Attachment rules without I/O: the names files are given, the limits, the PDF check."""

from __future__ import annotations

import pytest

from app.domain.attachments import MB, Kind, Policy, PolicyError, pdf_problem, safe_name


@pytest.mark.parametrize(("sent", "kind", "kept"), [
    ("../../etc/passwd", Kind.PDF, "passwd.pdf"),
    ("C:\\Users\\李\\现场照片.JPEG", Kind.JPEG, "现场照片.jpg"),
    ("photo.html", Kind.PNG, "photo.png"),
    ("evil\u202egpj.exe", Kind.JPEG, "evilgpj.jpg"),
    ("a<b>\"c\x00d;e%f.pdf", Kind.PDF, "abcdef.pdf"),
    ("", Kind.WEBP, "附件.webp"),
    ("...", Kind.PDF, "附件.pdf"),
    ("长" * 300 + ".png", Kind.PNG, "长" * 96 + ".png"),
])
def test_a_file_keeps_a_safe_name_ending_as_its_real_kind(sent, kind, kept):
    assert safe_name(sent, kind) == kept


def test_limits_default_to_five_files_of_five_megabytes_and_refuse_nonsense():
    assert Policy.from_env({}) == Policy(5, 5 * MB)
    assert Policy.from_env({"MINSHENG_ATTACHMENT_MAX_FILES": "3",
                            "MINSHENG_ATTACHMENT_MAX_MB": "10"}) == Policy(3, 10 * MB)
    for name, value in (("MINSHENG_ATTACHMENT_MAX_FILES", "0"),
                        ("MINSHENG_ATTACHMENT_MAX_FILES", "21"),
                        ("MINSHENG_ATTACHMENT_MAX_MB", "-1"),
                        ("MINSHENG_ATTACHMENT_MAX_MB", "5.5")):
        with pytest.raises(PolicyError):
            Policy.from_env({name: value})
    assert Policy(5, 5 * MB).body_limit == 51 * MB


@pytest.mark.parametrize(("data", "problem"), [
    (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj", None),
    (b"GIF89a", "not_pdf"),
    (b"%PDF-1.4 << /OpenAction << /S /JavaScript /JS (x) >> >>", "active_pdf"),
    (b"%PDF-1.4 << /A << /S /Launch /F (cmd.exe) >> >>", "active_pdf"),
    (b"%PDF-1.4 << /Names << /EmbeddedFiles 2 0 R >> >>", "active_pdf"),
    (b"%PDF-1.4 << /S /J#61vaScript >>", "active_pdf"),
    (b"%PDF-1.4 << /JSON (not a script) >>", None),
])
def test_a_pdf_must_be_one_and_run_nothing(data, problem):
    assert pdf_problem(data) == problem
