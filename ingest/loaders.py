"""Loaders per file type. Each returns a Document whose blocks keep page numbers and offsets."""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

from bs4 import BeautifulSoup
from charset_normalizer import from_bytes

from ingest.intake import SUPPORTED, check_content, check_size
from ingest.manifest import DocumentInfo
from ingest.pdf import read_pdf
from ingest.stages import stage
from ingest.structure import classify
from ingest.textclean import join_lines, normalize_spaces
from vraagpunt.errors import IngestError
from vraagpunt.types import Block, Document, Page

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()]|\([^)]*\))*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
# Inline HTML inside Markdown ("<b>329.855</b>", "T<sup>2</sup>"): the reader sees only the text.
_MD_INLINE_TAG = re.compile(r"<(br|hr)\s*/?>|</?[a-zA-Z][\w-]*(\s[^<>]*)?/?>", re.IGNORECASE)
_DROP_TAGS = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "svg", "iframe")
# Raw HTML in Markdown whose content is code or chrome, never text a reader sees; unclosed, it runs to the end.
_MD_RAW_BLOCK = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style|iframe|noscript|template|svg|object|textarea)\b[^>]*>.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_HTML_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^<>]*?(/?)>")
# Elements that never nest (void) or whose end tag may be left out: they do not deepen a page.
_FLAT_TAGS = frozenset(
    b"area base br col embed hr img input link meta source track wbr p li dt dd tr td th option optgroup "
    b"thead tbody tfoot colgroup caption rt rp html head body".split()
)
MAX_HTML_DEPTH = 1000


def load_document(
    path: Path, source: str, info: DocumentInfo, *, max_file_mb: float | None = None, max_pages: int | None = None
) -> Document:
    """Read one file into a Document. Raises IngestError with a Dutch reason when it cannot be used.

    A file over `max_file_mb` is refused before it is read; a file whose content is not what its
    extension says (a zip renamed to .pdf, a program to .md) before it is parsed.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise IngestError(f"bestandstype {suffix or '(geen)'} wordt niet ondersteund (pdf, md, txt, html).")
    try:
        if max_file_mb is not None:
            check_size(path.stat().st_size, max_file_mb)
        with stage("load"):
            data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"bestand kan niet gelezen worden ({exc.strerror}).") from exc
    if not data.strip():
        raise IngestError("bestand is leeg.")
    check_content(suffix, data[:8192])
    faq = info.kind == "faq"
    if suffix == ".pdf":
        meta_title, pdf_pages = read_pdf(data, max_pages=max_pages)
        paragraphs = [(p.number, text) for p in pdf_pages for text, _size in p.paragraphs]
        # The typeset document title repeats the metadata title; it is not content.
        title = info.title or meta_title or _title_from_name(path)
        titles = {_squeeze(title), _squeeze(meta_title)}
        paragraphs = [(n, t) for n, t in paragraphs if _squeeze(t) not in titles]
        pages, blocks = classify(paragraphs, faq=faq)
    elif suffix in (".md", ".markdown"):
        pages, blocks, heading = _markdown_blocks(_decode(data), faq)
        title = info.title or heading or _title_from_name(path)
    elif suffix in (".html", ".htm"):
        if _html_depth(data) > MAX_HTML_DEPTH:
            raise IngestError(f"HTML is dieper genest dan {MAX_HTML_DEPTH} niveaus; dat is geen gewone webpagina.")
        pages, blocks, heading = _html_blocks(data, faq)
        title = info.title or heading or _title_from_name(path)
    else:
        paragraphs = [(0, p) for p in re.split(r"\n\s*\n", normalize_spaces(_decode(data)))]
        pages, blocks = classify(paragraphs, faq=faq)
        title = info.title or _title_from_name(path)
    if not any(b.kind != "heading" for b in blocks):
        raise IngestError("bestand bevat geen leesbare tekst.")
    return Document(
        source=source,
        title=title,
        kind=info.kind or _guess_kind(blocks),
        blocks=blocks,
        pages=pages,
        audience=info.audience,
        date=info.date,
        url=info.url,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _decode(data: bytes) -> str:
    """UTF-8 when valid, otherwise the detected encoding (cp1252 is common for Windows exports)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Notepad's "Unicode"
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Dutch text that is not UTF-8 is nearly always Windows-1252; detectors guess Baltic or Cyrillic
    # code pages on short texts, so only ask one when cp1252 cannot decode the bytes.
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        return str(best) if best is not None else data.decode("cp1252", errors="replace")


def _markdown_blocks(text: str, faq: bool) -> tuple[list[Page], list[Block], str]:
    text = normalize_spaces(_MD_RAW_BLOCK.sub("\n\n", text))
    blocks: list[Block] = []
    parts: list[str] = []
    first_heading = ""
    offset = 0

    def add(kind: str, content: str, level: int = 0) -> None:
        nonlocal offset
        content = content.strip()
        if not content:
            return
        if kind == "paragraph" and content.endswith("?") and len(content) <= 320:
            kind = "question"
        start = offset + (2 if parts else 0)
        parts.append(content)
        offset = start + len(content)
        blocks.append(Block(kind=kind, text=content, page=0, start=start, end=offset, level=level))

    for para in re.split(r"\n\s*\n", text):
        lines = [l for l in para.split("\n") if l.strip() and not re.fullmatch(r"\s*([-*_]\s*){3,}", l)]
        buffer: list[str] = []
        for line in lines:
            m = _MD_HEADING.match(line)
            if m:
                add("paragraph", _plain_markdown(join_lines("\n".join(buffer))))
                buffer = []
                heading = _plain_markdown(m.group(2))
                first_heading = first_heading or heading
                add("heading", heading, len(m.group(1)))
            else:
                buffer.append(re.sub(r"^\s*(?:[-*+]|\d+\.)\s+", "", line))
        add("paragraph", _plain_markdown(join_lines("\n".join(buffer))))
    return [Page(0, "\n\n".join(parts))], blocks, first_heading


def _plain_markdown(text: str) -> str:
    """Markdown inline syntax to the text a reader sees: links keep their label, emphasis and inline
    HTML their words, entities their character."""
    text = _MD_INLINE_TAG.sub(lambda m: " " if m.group(1) else "", text)
    text = html.unescape(text).replace("\\[", "[").replace("\\]", "]").replace("\\(", "(").replace("\\)", ")")
    previous = None
    while previous != text:  # nested links resolve from the inside out
        previous, text = text, _MD_LINK.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(r"\2", text).replace("**", "").replace("__", "")
    return text.strip()


def _html_blocks(data: bytes, faq: bool) -> tuple[list[Page], list[Block], str]:
    with stage("load"):
        soup = BeautifulSoup(data, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    h1 = root.find("h1")
    markdown: list[str] = []
    for el in root.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre", "blockquote", "dd", "dt"]):
        if el.find_parent(["li", "tr", "blockquote"]) is not None and el.name != "tr":
            if el.name not in ("li",) or el.find_parent("li") is not None:
                continue
        if el.name.startswith("h"):
            markdown.append("#" * int(el.name[1]) + " " + _inline_text(el))
        elif el.name == "tr":
            cells = [_inline_text(c) for c in el.find_all(["th", "td"])]
            markdown.append(" | ".join(c for c in cells if c))
        else:
            markdown.append(_inline_text(el))
    body = "\n\n".join(m for m in markdown if m.strip())
    pages, blocks, first = _markdown_blocks(body, faq)
    heading = h1.get_text(" ", strip=True) if h1 else first
    return pages, blocks, heading or title


def _html_depth(data: bytes) -> int:
    """How deep the page's elements nest, counted from its tags without building a tree."""
    depth = deepest = 0
    for tag in _HTML_TAG.finditer(data):
        closing, name, self_closing = tag.groups()
        if self_closing or name.lower() in _FLAT_TAGS:
            continue
        if closing:
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _inline_text(el) -> str:
    """Element text as a reader sees it: inline tags add no spaces, whitespace runs collapse."""
    return re.sub(r"\s+", " ", el.get_text()).strip()


def _guess_kind(blocks: list[Block]) -> str:
    questions = sum(b.kind == "question" for b in blocks)
    return "faq" if questions >= 3 and questions * 4 >= len(blocks) else "report"


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize()


def _squeeze(text: str) -> str:
    return re.sub(r"\W+", "", text).lower()
