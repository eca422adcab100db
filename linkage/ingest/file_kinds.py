"""Files that are no list at all, told by their first bytes: what they are and what to send.

Why a module of its own: offices send a phone photo of the printed list, a Google Drive or
Windows shortcut instead of the sheet, an e-mail saved from Outlook with the list attached,
or a zip of several lists. Read as text, each was "cannot tell the file's text encoding" or
"no header row found", which tells the officer nothing they can act on. Nothing here reads
a value of the file, nor a name inside it (a member's or attachment's name may name a man).
"""

from __future__ import annotations

import re
from collections import Counter

# magic bytes of pictures a phone or a scanner makes
_PICTURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "a photo (JPEG)"),
    (b"\x89PNG\r\n\x1a\n", "a picture (PNG)"),
    (b"GIF87a", "a picture (GIF)"),
    (b"GIF89a", "a picture (GIF)"),
    (b"II*\x00", "a scan (TIFF)"),
    (b"MM\x00*", "a scan (TIFF)"),
)
_HEIF = re.compile(rb"^....ftyp(heic|heix|hevc|mif1|msf1|avif)", re.S)
_WINDOWS_SHORTCUT = b"L\x00\x00\x00\x01\x14\x02\x00"
_MAIL_HEADER = re.compile(
    rb"^(?:(?:Received|Return-Path|From|To|Subject|Date|Message-ID|MIME-Version|X-[\w-]+):[^\n]*\r?\n)+",
    re.I,
)


def not_a_list(data: bytes) -> str | None:
    """Why a file is no list, when its first bytes say what it is; None when they do not."""
    head = data[:4096]
    for magic, what in _PICTURES:
        if head.startswith(magic):
            return _picture(what)
    if _HEIF.match(head) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return _picture("a photo (HEIC or WebP)")
    if head.startswith(_WINDOWS_SHORTCUT):
        return (
            "this is a Windows shortcut (.lnk) to the list, not the list itself; open the folder "
            "it points to and send the file there"
        )
    return _shortcut(head) or _mail(head) or _json(head)


def _picture(what: str) -> str:
    return (
        f"this is {what}, not a list: a picture of a list cannot be read; send the list as "
        "the Excel file (.xlsx) or CSV it was typed in, or type it into the list's template"
    )


def _shortcut(head: bytes) -> str | None:
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"{") and (b'"doc_id"' in text or b"docs.google.com" in text):
        return (
            "this is a Google Drive shortcut (.gsheet), not the sheet itself; open it in Google "
            "Sheets, choose File > Download > Microsoft Excel (.xlsx), and send that file"
        )
    if text.startswith(b"[InternetShortcut]"):
        return (
            "this is an internet shortcut (.url) to the list, not the list itself; open the link, "
            "download the list as Excel (.xlsx) or CSV, and send that file"
        )
    return None


# a JSON export: an array of objects or of arrays, an object, or one object per line
_JSON = re.compile(rb'^(?:\[\s*[\[{"]|\{\s*"[^"\r\n]{0,200}"\s*:)')


def _json(head: bytes) -> str | None:
    if not _JSON.match(head.lstrip(b"\xef\xbb\xbf").lstrip()):
        return None
    return (
        "this is a JSON file (a case-management system's or an app's data export), not a CSV "
        "or Excel list; export the list from the system as CSV or Excel (.xlsx) and send that"
    )


def _mail(head: bytes) -> str | None:
    lines = _MAIL_HEADER.match(head.lstrip(b"\xef\xbb\xbf"))
    if lines is None or lines.group(0).count(b"\n") < 3 or b"content-type:" not in head.lower():
        return None
    return (
        "this is an e-mail saved as a file (.eml), not a list; open it, save the list it "
        "carries as an attachment, and send that file"
    )


def outlook_message(head: bytes) -> str | None:
    """An Outlook message (.msg, an OLE2 container like an .xls) dragged out of the mailbox."""
    if "__substg1.0_".encode("utf-16-le") in head or "__properties_version1.0".encode("utf-16-le") in head:
        return (
            "this is an Outlook message (.msg), not a list; open it, save the list it carries "
            "as an attachment, and send that file"
        )
    return None


def zip_of_files(names: list[str]) -> str:
    """A zip that is no workbook: what kinds of file it holds, by their endings alone."""
    files = [n for n in names if not n.endswith("/") and not n.startswith(("__MACOSX/", "."))]
    if not files:
        return "this is an empty zip archive, not an Excel workbook; send the list itself"
    kinds = Counter(_ending(n) for n in files)
    listed = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    lists = sum(n for kind, n in kinds.items() if kind in (".xlsx", ".xlsm", ".xls", ".csv", ".txt"))
    what = f"a zip archive holding {len(files)} file(s) ({listed}), not an Excel workbook"
    if lists:
        return f"this is {what}; unpack it and drop each list in it as a file of its own"
    return f"this is {what} and none of them is a list (.xlsx, .xls or .csv); send the list itself"


def _ending(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    if "." not in base:
        return "file(s) with no ending"
    ending = "." + base.rsplit(".", 1)[-1].lower()
    return ending if re.fullmatch(r"\.[a-z0-9]{1,5}", ending) else "file(s) of other kinds"
