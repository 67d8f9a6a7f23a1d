"""Write small real PDFs: text lines at positions, a running header and page numbers (tests, scaled corpora)."""

from __future__ import annotations

from pathlib import Path


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def make_pdf(path: Path, pages: list[list[str]], header: str = "", page_numbers: bool = True, title: str = "") -> Path:
    """Write a PDF whose pages hold the given lines (an empty string leaves a paragraph gap)."""
    objects: list[bytes] = []

    def add(obj: bytes) -> int:
        objects.append(obj)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    pages_id = len(objects) + 1 + 2 * len(pages)  # placeholder index, fixed below
    page_ids = []
    for number, lines in enumerate(pages, start=1):
        ops = [b"BT /F1 10 Tf"]
        if header:
            ops.append(b"1 0 0 1 72 800 Tm (" + _escape(header) + b") Tj")
        y = 760
        for line in lines:
            if line:
                ops.append(b"1 0 0 1 72 %d Tm (" % y + _escape(line) + b") Tj")
                y -= 14
            else:
                y -= 22
        if page_numbers:
            ops.append(b"1 0 0 1 300 30 Tm (%d) Tj" % number)
        ops.append(b"ET")
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(add(b"<< /Type /Page /Parent PARENT 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font, content)))
    pages_id = add(b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % p for p in page_ids) + b"] /Count %d >>" % len(page_ids))
    objects = [o.replace(b"PARENT", str(pages_id).encode()) for o in objects]
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    info = add(b"<< /Title (" + _escape(title) + b") >>") if title else None

    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path
