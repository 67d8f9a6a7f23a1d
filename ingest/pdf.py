"""PDF loading with pypdf: lines with their positions, running headers and footers removed, paragraphs rebuilt."""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import LimitReachedError, PdfReadError

from ingest.stages import stage
from ingest.textclean import dehyphenate, normalize_spaces
from vraagpunt.errors import IngestError

_PAGE_NUMBER = re.compile(r"^(?:p(?:agina)?\.?\s*)?\d{1,4}(?:\s*(?:/|van)\s*\d{1,4})?$", re.IGNORECASE)
_MARGIN = 0.1  # fraction of the page height treated as header/footer zone
_FOOTNOTE_LINE = re.compile(r"^(\d{1,3})\s+[^\W\d]", re.MULTILINE)  # "13 Voogt, J., Fisser, P. …"
_GLUED_NUMBER = re.compile(  # "technologie13.", "context)14.", "(2013)7": a superscript reference, lost
    r"(?:(?<=[^\W\d_]{3})|(?<=[^\W_][)’”])|(?<=\.[’”]))(\d{1,3})(?=[\s.,;:)]|$)"
)


@dataclass
class _Line:
    text: str
    y: float
    size: float


@dataclass
class PdfPage:
    number: int
    paragraphs: list[tuple[str, float]]  # (text, font size)


def read_pdf(source: Path | bytes, max_pages: int | None = None) -> tuple[str, list[PdfPage]]:
    """Return the PDF's metadata title and its pages as cleaned paragraphs.

    Raises IngestError for encrypted, broken or text-less files, and for more than `max_pages` pages
    (counted before any text is read).
    """
    try:
        with stage("load"):
            reader = PdfReader(io.BytesIO(source) if isinstance(source, bytes) else str(source))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise IngestError("PDF is versleuteld (wachtwoord nodig); sla op zonder beveiliging.")
            except (NotImplementedError, PdfReadError) as exc:
                raise IngestError("PDF is versleuteld (wachtwoord nodig); sla op zonder beveiliging.") from exc
        count = len(reader.pages)
        if max_pages is not None and count > max_pages:
            raise IngestError(
                f"PDF heeft {count} pagina's; het maximum is {max_pages} (VRAAGPUNT_MAX_PAGES). "
                "Splits het document of verhoog het maximum."
            )
        title = ""
        try:
            meta = reader.metadata
            title = (meta.title or "").strip() if meta else ""
        except Exception:  # noqa: BLE001 - broken metadata must not lose the text
            title = ""
        raw_pages = []
        for page in reader.pages:
            height = float(page.mediabox.height) or 842.0
            raw_pages.append((_page_lines(page), height))
    except IngestError:
        raise
    except LimitReachedError as exc:  # a stream that inflates past pypdf's limit (75 MB): a bomb, or no document
        raise IngestError(f"PDF bevat een stroom die te groot is om uit te pakken ({exc}).") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError, RecursionError) as exc:
        raise IngestError(f"PDF is beschadigd of onleesbaar ({exc.__class__.__name__}: {exc}).") from exc
    if not raw_pages:
        raise IngestError("PDF heeft geen pagina's.")
    pages = _strip_running_lines(raw_pages)
    step = _line_step(pages)
    result = _drop_footnote_marks([PdfPage(i + 1, _paragraphs(lines, step)) for i, lines in enumerate(pages)])
    if not any(p.paragraphs for p in result):
        if any(_has_images(page) for page in reader.pages):
            raise IngestError(
                "PDF heeft geen tekstlaag (OCR nodig): de pagina's zijn afbeeldingen, zoals bij een scan. "
                "Laat er tekstherkenning (OCR) op lopen en voeg die PDF toe."
            )
        raise IngestError("PDF bevat geen tekst: de pagina's zijn leeg.")
    return title, result


def _has_images(page, depth: int = 0) -> bool:
    """Whether a page (or a form it draws, a few levels deep) shows an image."""
    try:
        xobjects = (page.get("/Resources") or {}).get_object().get("/XObject") or {}
        for ref in xobjects.get_object().values():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                return True
            if obj.get("/Subtype") == "/Form" and depth < 3 and _has_images(obj, depth + 1):
                return True
    except (PdfReadError, AttributeError, KeyError, TypeError, ValueError):
        return False
    return False


def _page_lines(page) -> list[_Line]:
    fragments: list[tuple[float, float, float, str]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if not text or not text.strip():
            return
        # Effective size: font size scaled by the text and current matrices.
        scale = abs(tm[3] * cm[3]) or 1.0
        y = tm[5] * cm[3] + cm[5]
        x = tm[4] * cm[0] + cm[4]
        fragments.append((round(y, 1), x, font_size * scale, text))

    with stage("load"):
        text = page.extract_text(visitor_text=visit)
    if not fragments:
        return [_Line(normalize_spaces(t), 0.0, 0.0) for t in text.splitlines() if t.strip()]
    lines: list[_Line] = []
    for y, x, size, frag in fragments:
        for part in frag.split("\n"):
            if not part.strip():
                continue
            if lines and abs(lines[-1].y - y) < 2.0:
                lines[-1].text += " " + part
            else:
                lines.append(_Line(part, y, size))
    for line in lines:
        line.text = normalize_spaces(line.text)
    return [line for line in lines if line.text]


def _strip_running_lines(pages: list[tuple[list[_Line], float]]) -> list[list[_Line]]:
    """Drop page numbers and lines repeated in the top/bottom margin of many pages."""

    def key(text: str) -> str:
        return re.sub(r"\d+", "#", text.lower())

    in_margin: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    for lines, height in pages:
        in_margin.update({key(l.text) for l in lines if _is_margin(l, height)})
        anywhere.update({key(l.text) for l in lines if len(l.text) >= 30})
    threshold = max(2, int(0.5 * len(pages) + 0.5))
    running = {k for k, n in in_margin.items() if n >= threshold}
    # Long lines repeated on many pages are running heads typeset into the body (e.g. a report's
    # title bar every few pages); a sentence of content does not recur verbatim that often.
    running |= {k for k, n in anywhere.items() if n >= max(4, len(pages) // 20)}
    cleaned = []
    for lines, height in pages:
        kept = []
        for line in lines:
            k = key(line.text)
            if k in running and (_is_margin(line, height) or anywhere[k] >= 4):
                continue
            if _is_margin(line, height) and _PAGE_NUMBER.match(line.text):
                continue
            kept.append(line)
        cleaned.append(kept)
    return cleaned


def _is_margin(line: _Line, height: float) -> bool:
    return line.y > height * (1 - _MARGIN) or 0 < line.y < height * _MARGIN


def _line_step(pages: list[list[_Line]]) -> float:
    """The document's usual distance between two lines of one paragraph (lower quartile of all gaps)."""
    gaps = sorted(
        a.y - b.y for lines in pages for a, b in zip(lines, lines[1:]) if 0 < a.y - b.y < 40 and a.size == b.size
    )
    if len(gaps) < 4:
        return 0.0
    return statistics.quantiles(gaps, n=4)[0]


def _paragraphs(lines: list[_Line], step: float) -> list[tuple[str, float]]:
    """Group lines into paragraphs by vertical gaps and font size changes."""
    if not lines:
        return []
    paragraphs: list[tuple[list[str], float]] = []
    prev: _Line | None = None
    for line in lines:
        new = prev is None
        if prev is not None:
            gap = prev.y - line.y
            if step and (gap > step * 1.3 or gap < 0):
                new = True
            elif abs(line.size - prev.size) > 0.5:
                new = True
        if new:
            paragraphs.append(([line.text], line.size))
        else:
            paragraphs[-1][0].append(line.text)
        prev = line
    return [(dehyphenate("\n".join(texts)), size) for texts, size in paragraphs]


def _drop_footnote_marks(pages: list[PdfPage]) -> list[PdfPage]:
    """Remove footnote references whose superscript was lost: "technologie13." -> "technologie.".

    Glued to a word they hide it from search ("technologie13" matches no query). A number counts as
    a reference only when the document has a footnote with that number ("13 Voogt, J. …") and it
    continues the run of references (a little higher than the last one): "TACCLE2" or "Lab9" late
    in a report are names, not references.
    """
    notes = {int(n) for page in pages for text, _ in page.paragraphs for n in _FOOTNOTE_LINE.findall(text)}
    if not notes:
        return pages
    last = 0

    def unglue(m: re.Match) -> str:
        nonlocal last
        n = int(m.group(1))
        if n in notes and last < n <= last + 5:
            last = n
            return ""
        return m.group(0)

    for page in pages:
        page.paragraphs = [(_GLUED_NUMBER.sub(unglue, text), size) for text, size in page.paragraphs]
    return pages
