"""Attachments: how many, how large, which kinds, and the names they are given. No I/O."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

MB = 1024 * 1024
DEFAULT_MAX_FILES = 5
DEFAULT_MAX_MB = 5
MAX_FILES_CEILING = 20
MAX_MB_CEILING = 50
# Larger pictures are refused rather than decoded: a small file can unpack to gigabytes.
MAX_PIXELS = 40_000_000
NAME_MAX = 100
FIELD = "files"  # the form field and the API part that carry files


class Kind(StrEnum):
    JPEG = "image/jpeg"
    PNG = "image/png"
    WEBP = "image/webp"
    PDF = "application/pdf"


EXTENSIONS = {Kind.JPEG: ".jpg", Kind.PNG: ".png", Kind.WEBP: ".webp", Kind.PDF: ".pdf"}
IMAGES = frozenset({Kind.JPEG, Kind.PNG, Kind.WEBP})
ACCEPT = ",".join([*(k.value for k in Kind), *EXTENSIONS.values()])  # the file input's hint
KINDS_ZH = "JPEG、PNG、WebP 图片或 PDF 文件"


class Occasion(StrEnum):
    SUBMISSION = "submission"
    INFO = "info"
    REPLY = "reply"


OCCASION_LABELS = {Occasion.SUBMISSION: "群众随诉求提交", Occasion.INFO: "群众补充材料",
                   Occasion.REPLY: "部门随答复上传"}


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Policy:
    """How many files one form or request may carry, and how large each may be."""

    max_files: int = DEFAULT_MAX_FILES
    max_bytes: int = DEFAULT_MAX_MB * MB

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Policy:
        files = _whole(env, "MINSHENG_ATTACHMENT_MAX_FILES", DEFAULT_MAX_FILES, MAX_FILES_CEILING)
        mb = _whole(env, "MINSHENG_ATTACHMENT_MAX_MB", DEFAULT_MAX_MB, MAX_MB_CEILING)
        return cls(files, mb * MB)

    @property
    def max_mb(self) -> str:
        return f"{self.max_bytes / MB:g}"

    @property
    def body_limit(self) -> int:
        """Bytes a whole form may carry: room for twice the files allowed, so that a form
        with too many or too large files is still read and refused beside its field."""
        return 2 * self.max_files * self.max_bytes + MB

    @property
    def accept(self) -> str:
        return ACCEPT

    def hint(self) -> str:
        return f"最多 {self.max_files} 个文件，每个不超过 {self.max_mb} MB；{KINDS_ZH}。"


def _whole(env: Mapping[str, str], name: str, default: int, ceiling: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= ceiling:
        raise PolicyError(f"{name} 必须是 1 到 {ceiling} 之间的整数（现为“{raw[:20]}”）。")
    return int(raw)


# What a file name may not keep: controls, path and shell punctuation, bidi overrides.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"/\\|?*;%\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def safe_name(name: str, kind: Kind) -> str:
    """The name the resident's file was sent under, fit to show and to offer as a download:
    its last path segment, without unsafe characters, ending as its real kind does."""
    base = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("", base.encode("utf-8", "replace").decode("utf-8")).strip(" .")
    stem = base.rsplit(".", 1)[0].strip(" .") if "." in base else base
    extension = EXTENSIONS[kind]
    stem = stem[: NAME_MAX - len(extension)] or "附件"
    return stem + extension


# PDF actions that run something when the file is opened.
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia)(?![A-Za-z0-9])")
# A name written with #xx escapes (/J#61vaScript) could hide one of them.
_PDF_ESCAPED_NAME = re.compile(rb"/[A-Za-z]*#[0-9A-Fa-f]{2}")


def pdf_problem(data: bytes) -> str | None:
    """Why a file that should be a PDF is refused, or None. The scan is of the raw bytes:
    actions inside compressed object streams escape it, which is why PDFs are only ever
    served as downloads under a sandbox policy."""
    if not data.startswith(b"%PDF-"):
        return "not_pdf"
    if _PDF_ACTIVE.search(data) or _PDF_ESCAPED_NAME.search(data):
        return "active_pdf"
    return None


def refusal(problem: str, name: str, policy: Policy) -> str:
    """The Chinese message shown beside the files field."""
    shown = f"“{name[:40]}”" if name else "所选文件"
    return {
        "too_many": f"最多上传 {policy.max_files} 个文件。",
        "empty": f"{shown}是空文件。",
        "too_large": f"{shown}超过 {policy.max_mb} MB。",
        "wrong_type": f"{shown}不是可接受的文件类型，只能上传{KINDS_ZH}。",
        "not_pdf": f"{shown}不是有效的 PDF 文件。",
        "active_pdf": f"{shown}含有脚本或自动执行的内容，不能上传。",
        "broken_image": f"{shown}不是有效的图片，或图片已损坏。",
        "too_many_pixels": f"{shown}的像素过多（上限 {MAX_PIXELS // 1_000_000} 百万像素）。",
    }[problem]
