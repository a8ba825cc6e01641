"""Attachments: check what was sent, clean it, keep it under its hash, list it.

A file's kind is decided from its bytes alone. Pictures are decoded with Pillow and encoded
again from their pixels, so nothing of the original file but the picture survives (EXIF,
GPS position, XMP, comments, thumbnails, trailing data). Files are written first, under the
sha256 of what is stored; the rows follow in the caller's transaction, so a failed action
leaves at most a file nobody points at, which the next identical upload reuses.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from starlette.datastructures import UploadFile

from app.domain.attachments import (
    FIELD,
    IMAGES,
    MAX_PIXELS,
    Kind,
    Occasion,
    Policy,
    pdf_problem,
    refusal,
    safe_name,
)
from app.models import Account, Appeal, Attachment
from app.services.errors import ValidationFailed
from app.services.workflow import now_utc

PILLOW_FORMATS = {"JPEG": Kind.JPEG, "PNG": Kind.PNG, "WEBP": Kind.WEBP}
SAVE_AS = {Kind.JPEG: ("JPEG", {"quality": 90}), Kind.PNG: ("PNG", {}),
           Kind.WEBP: ("WEBP", {"quality": 90})}
KEEPS_MODE = {Kind.JPEG: {"RGB", "L"}, Kind.PNG: {"1", "L", "LA", "RGB", "RGBA", "I;16"},
              Kind.WEBP: {"RGB", "RGBA"}}


class AttachmentsRefused(ValidationFailed):
    def __init__(self, message: str):
        super().__init__({FIELD: message})


class Refused(Exception):
    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class Cleaned:
    name: str
    kind: Kind
    data: bytes
    sha256: str


@dataclass(frozen=True)
class Sent:
    name: str
    data: bytes


def _image(data: bytes, name: str) -> tuple[Kind, bytes]:
    try:
        probe = Image.open(io.BytesIO(data))
        kind = PILLOW_FORMATS.get(probe.format or "")
        if kind is None:
            raise Refused("wrong_type")
        if probe.width * probe.height > MAX_PIXELS:
            raise Refused("too_many_pixels")
        probe.verify()  # a damaged or truncated file stops here
        picture = Image.open(io.BytesIO(data))
        picture.seek(0)  # an animation keeps its first frame only
        picture.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused("too_many_pixels") from None
    except UnidentifiedImageError:
        # The name only chooses the words: "this is no picture" for one that says it is.
        says_image = name.lower().endswith((".jpg", ".jpeg", ".png", ".webp"))
        raise Refused("broken_image" if says_image else "wrong_type") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise Refused("broken_image") from None
    upright = ImageOps.exif_transpose(picture)
    if upright.mode not in KEEPS_MODE[kind]:
        has_alpha = "A" in upright.getbands() or "transparency" in upright.info
        wanted = "RGBA" if has_alpha and kind is not Kind.JPEG else "RGB"
        upright = upright.convert(wanted)
    # From the pixels alone: the new image has no info, no EXIF, no ICC, no comments.
    bare = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    out = io.BytesIO()
    fmt, options = SAVE_AS[kind]
    bare.save(out, fmt, **options)
    return kind, out.getvalue()


def clean(sent: Sent) -> Cleaned:
    """The file as it will be stored, or Refused(problem)."""
    data = sent.data
    if data.startswith(b"%PDF-"):
        problem = pdf_problem(data)
        if problem:
            raise Refused(problem)
        kind, stored = Kind.PDF, data
    elif sent.name.lower().endswith(".pdf") and not _looks_like_image(data):
        raise Refused("not_pdf")
    else:
        kind, stored = _image(data, sent.name)
    return Cleaned(safe_name(sent.name, kind), kind, stored, hashlib.sha256(stored).hexdigest())


def _looks_like_image(data: bytes) -> bool:
    return data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP")


async def sent_files(form, policy: Policy) -> list[Sent]:
    """The files of a parsed multipart form (field `files`), read no further than the size
    limit. A file input left empty sends a nameless empty part: that is no file."""
    found: list[Sent] = []
    refused: list[str] = []
    parts = [p for p in form.getlist(FIELD) if not _nothing_chosen(p)]
    if len(parts) > policy.max_files:
        raise AttachmentsRefused(refusal("too_many", "", policy))
    for part in parts:
        if not isinstance(part, UploadFile):
            refused.append(refusal("wrong_type", "", policy))
            continue
        name = part.filename or ""
        data = await part.read(policy.max_bytes + 1)
        if not data:
            refused.append(refusal("empty", name, policy))
        elif len(data) > policy.max_bytes:
            refused.append(refusal("too_large", name, policy))
        else:
            found.append(Sent(name, data))
    if refused:
        raise AttachmentsRefused("".join(refused))
    return found


def _nothing_chosen(part) -> bool:
    if isinstance(part, UploadFile):
        return not part.filename and (part.size or 0) == 0
    return part == ""


async def prepare(form, policy: Policy) -> list[Cleaned]:
    """Every file of the form checked and cleaned, or AttachmentsRefused naming each refused
    file. Decoding pictures is CPU work: it runs off the event loop."""
    sent = await sent_files(form, policy)
    return await asyncio.to_thread(_clean_all, sent, policy)


def _clean_all(sent: list[Sent], policy: Policy) -> list[Cleaned]:
    cleaned, refused = [], []
    for item in sent:
        try:
            cleaned.append(clean(item))
        except Refused as exc:
            refused.append(refusal(exc.problem, item.name, policy))
    if refused:
        raise AttachmentsRefused("".join(refused))
    return cleaned


class Store:
    """The attachments directory: one file per distinct content, named by its sha256 and
    fanned out by its first two hex digits. Never under the web root."""

    def __init__(self, root: Path):
        self.root = root

    @classmethod
    def of(cls, settings: Any) -> Store:
        """The store `settings` name (MINSHENG_ATTACHMENTS_DIR, else under the var dir)."""
        return cls(settings.attachments_dir or settings.var_dir / "attachments")

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256")
        return self.root / sha256[:2] / sha256

    def put(self, item: Cleaned) -> None:
        target = self.path(item.sha256)
        if target.exists():
            try:
                os.utime(target)  # fresh again: the prune leaves it to the row being written
                return
            except FileNotFoundError:
                pass  # pruned a moment ago: written anew below
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(item.data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def put_all(self, items: Iterable[Cleaned]) -> None:
        items = list(items)
        if items:
            await asyncio.to_thread(lambda: [self.put(i) for i in items])

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def last_touched(self, newest: float, oldest: float) -> Iterator[tuple[str | None, Path]]:
        """Files last written or reused between `oldest` and `newest` (seconds ago):
        (sha256, path) for stored files, (None, path) for a write a crash left half done."""
        if not self.root.is_dir():
            return
        now = time.time()
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir() or len(folder.name) != 2:
                continue
            for path in folder.iterdir():
                if not now - oldest <= _modified(path) < now - newest:
                    continue
                if path.name.startswith(".incoming-"):
                    yield None, path
                elif len(path.name) == 64 and path.name.startswith(folder.name):
                    yield path.name, path


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")


PRUNE_AFTER = timedelta(days=1)  # far longer than any upload's transaction
# Only files last touched within this much before PRUNE_AFTER are looked up: older ones were
# there for earlier runs (a worker down for longer leaves its orphans in place).
PRUNE_WINDOW = timedelta(days=7)
PRUNE_BATCH = 500


async def prune(store: Store, *, keep: timedelta = PRUNE_AFTER) -> int:
    """Delete the files no attachment row names (an upload whose appeal or reply was then
    refused or rolled back), and half-written ones, untouched for `keep`: a worker job.
    How many were deleted."""
    seconds = keep.total_seconds()
    oldest = seconds + PRUNE_WINDOW.total_seconds()
    found = await asyncio.to_thread(lambda: list(store.last_touched(seconds, oldest)))
    deleted = 0
    for start in range(0, len(found), PRUNE_BATCH):
        batch = found[start:start + PRUNE_BATCH]
        named = {sha for sha, _ in batch if sha}
        kept = set(await Attachment.filter(sha256__in=sorted(named))
                   .values_list("sha256", flat=True)) if named else set()
        for sha, path in batch:
            # Looked at again just before: an upload of the same content touches the file.
            if sha not in kept and _modified(path) < time.time() - seconds:
                path.unlink(missing_ok=True)
                deleted += 1
    return deleted


def rows(items: list[Cleaned], *, account: Account | None, role: str, occasion: Occasion,
         appeal: Appeal | None = None, at: datetime | None = None) -> list[Attachment]:
    """Unsaved rows for `items` (the appeal may be set later, once it has an id)."""
    at = at or now_utc()
    owner = {"appeal_id": appeal.id} if appeal else {}
    return [Attachment(**owner, uploaded_by=account, role=str(role), occasion=occasion.value,
                       name=i.name, content_type=i.kind.value, size=len(i.data),
                       sha256=i.sha256, created_at=at) for i in items]


async def insert(found: list[Attachment], appeal_id: int) -> None:
    """Write the rows, inside the caller's transaction."""
    for row in found:  # a handful at most; saved one by one, each learns its id
        row.appeal_id = appeal_id
        await row.save()


async def of_appeal(appeal: Appeal, *, resident: bool = False) -> list[Attachment]:
    found = await Attachment.filter(appeal_id=appeal.id).order_by("id")
    return [a for a in found if resident_sees(a, appeal)] if resident else found


def resident_sees(attachment: Attachment, appeal: Appeal) -> bool:
    """A department's file reaches the resident with its reply: one added to a reply that
    waits for the head's review (审核) stays with staff until a reply goes out."""
    if attachment.occasion != Occasion.REPLY:
        return True
    return appeal.replied_at is not None and attachment.created_at <= appeal.replied_at


async def one_of(appeal: Appeal, attachment_id: int) -> Attachment | None:
    return await Attachment.get_or_none(id=attachment_id, appeal_id=appeal.id)


def is_image(attachment: Attachment) -> bool:
    return Kind(attachment.content_type) in IMAGES
