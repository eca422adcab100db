"""What leaves the store on disk: 0600 files in 0700 folders, the workbook under a password,
CSVs only inside an AES-encrypted zip (or in clear only when asked).

Why: a report names every unreferred survivor with a phone and a village. It is e-mailed and
copied; Office's own encryption (ECMA-376 agile, AES) is what Excel and LibreOffice open
with a password prompt, and a zip with AES (WinZip AE-2) is what 7-Zip and most archive
tools open. The password never travels with the file: see the README's privacy section.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from linkage.seal.files import private_dir, write_private
from linkage.settings import Settings

PASSWORD_ENV = "SURVIVOR_LINK_REPORT_PASSWORD"
CSV_MODES = ("zip", "plain", "none")


def report_password(settings: Settings) -> str | None:
    """The report password: SURVIVOR_LINK_REPORT_PASSWORD, else the first line of the file
    that report_password_file names; None when neither is set."""
    env = os.environ.get(PASSWORD_ENV, "")
    if env:
        return env
    path = settings.report_password_file
    if str(path) in ("", "."):
        return None
    text = Path(path).read_text(encoding="utf-8").splitlines()
    return text[0] if text and text[0] else None


def encrypt_workbook(content: bytes, password: str) -> bytes:
    """The workbook encrypted with Office's own password encryption (msoffcrypto-tool)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(content)).encrypt(password, out)
    return out.getvalue()


def zip_encrypted(path: Path, members: dict[str, bytes], password: str) -> Path:
    """Members in one AES-256 zip (pyzipper), written 0600."""
    import pyzipper

    buf = io.BytesIO()
    with pyzipper.AESZipFile(buf, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as zf:
        zf.setpassword(password.encode("utf-8"))
        zf.setencryption(pyzipper.WZ_AES, nbits=256)
        for name, data in members.items():
            zf.writestr(name, data)
    return write_private(path, buf.getvalue())


def private_output(path: Path) -> Path:
    """The folder of an output file: a new one is made 0700 (an existing one is left as it
    is: it may be the officer's own); the file itself is written 0600 by the caller."""
    if not path.parent.exists():
        private_dir(path.parent)
    return path


def open_private(path: Path):  # noqa: ANN201 - a text file object
    """A new text file, 0600 from its creation (csv writers write through it)."""
    private_output(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_TRUNC
    return os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
