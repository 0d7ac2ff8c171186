"""Encoding detection and line-break counts (CSV and JSONL).

UTF-8 with a BOM, strict UTF-8, else GB18030 (a GBK superset); anything else is
``file.encoding``. The same streamed pass counts line breaks, which the CSV fast path
checks its record count against.
"""

from __future__ import annotations

import codecs
import contextlib
from dataclasses import dataclass
from pathlib import Path

from ..model import FileRejected

CHUNK_BYTES = 16 * 1024 * 1024  # encoding detection streams the file in chunks this size
SNIFF_BYTES = 64 * 1024  # the fast path checks this much is UTF-8 before handing over to pyarrow

_NEWLINE_BYTES = (b"\n", b"\r")
_LF, _CR = 0x0A, 0x0D


@dataclass
class _Lines:
    """Line-break counts of a file's bytes. They are the same in UTF-8 and GB18030, whose
    multi-byte sequences never contain the bytes of a line break, a quote or a comma."""

    lf: int = 0
    cr: int = 0
    crlf: int = 0
    tail_lf: int = 0  # LF bytes in the run of line breaks that ends the file
    last: bytes = b""

    def feed(self, chunk: bytes | bytearray, size: int | None = None) -> None:
        """Count the first ``size`` bytes of ``chunk`` (all of it by default)."""
        n = len(chunk) if size is None else size
        if n == 0:
            return
        self.lf += chunk.count(b"\n", 0, n)
        cr = chunk.count(b"\r", 0, n)
        self.cr += cr
        if cr or self.last == b"\r":
            joined = int(self.last == b"\r" and chunk[0] == _LF)
            self.crlf += chunk.count(b"\r\n", 0, n) + joined
        body = n
        while body and chunk[body - 1] in (_LF, _CR):
            body -= 1
        self.tail_lf = chunk.count(b"\n", body, n) + (self.tail_lf if body == 0 else 0)
        self.last = bytes(chunk[n - 1 : n])

    @property
    def newlines(self) -> int:
        """Line breaks before the final run of them: records + blank lines - 1."""
        return self.lf - self.tail_lf

    @property
    def bare_cr(self) -> bool:
        """An old-Mac line break: a CR not followed by LF."""
        return self.cr > self.crlf

    @property
    def ends_with_newline(self) -> bool:
        return self.last in _NEWLINE_BYTES


@dataclass
class _Probe:
    """What one streamed pass over the bytes learned about a text file."""

    encoding: str
    has_content: bool  # anything but whitespace
    lines: _Lines


def _scan(path: Path, encoding: str, utf8_copy: Path | None) -> _Probe:
    """One pass: validate ``encoding`` strictly, count line breaks and, when
    ``utf8_copy`` is given, write the text there as UTF-8."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = _Lines()
    has_content = False
    with path.open("rb") as src, contextlib.ExitStack() as stack:
        sink = stack.enter_context(utf8_copy.open("wb")) if utf8_copy is not None else None
        while chunk := src.read(CHUNK_BYTES):
            text = decoder.decode(chunk)
            has_content = has_content or bool(text.strip())
            lines.feed(chunk)
            if sink is not None:
                sink.write(text.encode("utf-8"))
        decoder.decode(b"", final=True)
    return _Probe(encoding, has_content, lines)


def _count_lines(path: Path) -> _Lines:
    lines = _Lines()
    buffer = bytearray(CHUNK_BYTES)  # reused: no fresh pages for every chunk
    with path.open("rb", buffering=0) as src:
        while size := src.readinto(buffer):
            lines.feed(buffer, size)
    return lines


def _has_bom(path: Path) -> bool:
    with path.open("rb") as src:
        return src.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8


def _detect(path: Path, utf8_copy: Path | None = None) -> _Probe:
    """UTF-8 BOM -> utf-8-sig; strict UTF-8 -> utf-8; else GB18030 (a GBK superset),
    transcoded to ``utf8_copy`` when given; else ``file.encoding``."""
    candidates = ("utf-8-sig",) if _has_bom(path) else ("utf-8", "gb18030")
    for encoding in candidates:
        try:
            return _scan(path, encoding, utf8_copy if encoding == "gb18030" else None)
        except UnicodeDecodeError:
            continue
    raise FileRejected("file.encoding", detail="the bytes are not valid " + " or ".join(candidates))


def _sniff_utf8(path: Path) -> str | None:
    """The UTF-8 flavour the start of the file is in, or None if it is not UTF-8."""
    with path.open("rb") as src:
        head = src.read(SNIFF_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(head)
    except UnicodeDecodeError:
        return None
    return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
