"""Hostile files at scale, generated here; each case and its outcome is listed in docs/hostile-files.md.

| Geval | Uitkomst |
|---|---|
| PDF van 2.000 pagina's | geweigerd vóór de tekst gelezen wordt (max. 1.000, `VRAAGPUNT_MAX_PAGES`); met een hoger maximum geladen met begrensd geheugen |
| bestand boven de groottelimiet | geweigerd vóór het gelezen wordt ("bestand is te groot") |
| PDF met alleen afbeeldingen | overgeslagen: "geen tekstlaag (OCR nodig)" |
| zip-bom met extensie .pdf | overgeslagen: "geen PDF: de inhoud is een zip-archief"; nooit uitgepakt |
| deflate-bom in een echte PDF | pypdf pakt per stroom hoogstens 75 MB uit; begrensd geheugen |
| programma met extensie .md | overgeslagen: "geen tekst: de inhoud is een programma" |
| diep geneste HTML | overgeslagen: "dieper genest dan 1000 niveaus", zonder boom te bouwen |
| HTML vol script, style en `javascript:`-links | geïndexeerd: alleen de leesbare tekst, geen code of `javascript:` |
| Markdown met ruwe HTML en `<img onerror>` | geïndexeerd: alleen de leesbare tekst |
| namen met `../`, unicode, spaties, leidend streepje | upload: opgeslagen onder een veilige naam in de corpusmap; op schijf: geïndexeerd onder hun naam |
| hetzelfde document onder twee namen | één keer geïndexeerd; het tweede overgeslagen: "zelfde inhoud als …" |
"""

from __future__ import annotations

import io
import random
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, NumberObject, StreamObject

from ingest.intake import save_upload, upload_name
from ingest.loaders import load_document
from ingest.manifest import DocumentInfo
from ingest.pipeline import ingest
from tests.conftest import live_chunks, make_settings
from tests.pdfmaker import make_pdf
from tests.school import write_corpus
from vraagpunt.errors import IngestError
from vraagpunt.index import open_index

WORDS = ("leerling school leraar project subsidie aanvraag begeleiding zorg budget termijn verslag klas "
         "ouders directie netwerk onderzoek praktijk evaluatie middelen").split()


def measured(load):
    """Run `load()`, returning (its result or the IngestError, seconds, peak MB of Python allocations)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    try:
        result = load()
    except IngestError as exc:
        result = exc
    finally:
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return result, seconds, peak


def load(path: Path, **limits):
    return load_document(path, path.name, DocumentInfo(), **limits)


# -- generators ------------------------------------------------------------------------------------
def thousands_of_pages(path: Path, pages: int = 2000) -> Path:
    rnd = random.Random(2000)
    text = [[" ".join(rnd.choice(WORDS) for _ in range(9)).capitalize() + "." for _ in range(4)] for _ in range(pages)]
    return make_pdf(path, text, header="Jaarverslag")


def image_only_pdf(path: Path) -> Path:
    """A one-page 'scan': an image drawn over the page, no text at all."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    image = StreamObject()
    image.set_data(bytes(range(256)) * 30)
    image.update({
        NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
        NameObject("/Width"): NumberObject(64), NameObject("/Height"): NumberObject(40),
        NameObject("/ColorSpace"): NameObject("/DeviceRGB"), NameObject("/BitsPerComponent"): NumberObject(8),
    })
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(image)})}
    )
    content = StreamObject()
    content.set_data(b"q 500 0 0 300 50 400 cm /Im0 Do Q")
    page[NameObject("/Contents")] = writer._add_object(content)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def zip_bomb(path: Path) -> Path:
    """200 MB of zeros in a 200 KB zip, named like a PDF."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("rapport.pdf", b"\0" * (200 * 1024 * 1024))
    path.write_bytes(buffer.getvalue())
    return path


def deflate_bomb_pdf(path: Path) -> Path:
    """A real PDF whose page content inflates to 300 MB."""
    make_pdf(path, [["Dit rapport gaat over de subsidie voor scholen."]])
    writer = PdfWriter(clone_from=str(path))
    content = StreamObject()
    content._data = zlib.compress(b"BT /F1 10 Tf 72 700 Td (Hallo) Tj ET " + b" " * (300 * 1024 * 1024), 9)
    content[NameObject("/Filter")] = NameObject("/FlateDecode")
    writer.pages[0][NameObject("/Contents")] = writer._add_object(content)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


SCRIPTED_HTML = """<html><head><style>body { color: red }</style><script>alert('kop')</script></head><body>
<main><h1>Aanvraag indienen</h1>
<p>Lees <a href="javascript:alert(1)">de regels voor de aanvraag</a> voor je een aanvraag indient.</p>
<p onclick="steal()">Een aanvraag dien je in voor 1 maart.</p>
<script>document.write('geheime code')</script><style>.x { display: none }</style>
<noscript>schakel javascript in</noscript><a href="JaVaScRiPt:evil()">klik hier</a>
<iframe src="javascript:alert(2)"></iframe></main></body></html>
"""
RAW_HTML_MARKDOWN = """# Subsidie voor scholen

Een school kan tot 5.000 euro subsidie krijgen voor een leesproject.

<img src=x onerror="alert(1)">

<script>alert('markdown')</script>

<style>p { color: red }</style>

Tekst met <b>vet</b>, een [link](javascript:alert(1)) en <span onmouseover="steal()">een span</span>.

<!-- verborgen opmerking -->

<iframe src="https://example.org"></iframe>

<script>nooit gesloten
"""


# -- one file at a time ----------------------------------------------------------------------------
def test_a_2000_page_pdf_is_refused_before_its_text_is_read(tmp_path, figures):
    path = thousands_of_pages(tmp_path / "jaarverslag.pdf")
    refused, seconds, peak = measured(lambda: load(path, max_pages=1000))
    assert isinstance(refused, IngestError) and "2000 pagina's" in str(refused) and "VRAAGPUNT_MAX_PAGES" in str(refused)
    assert peak < 40  # the page tree only
    figures.append(f"PDF van 2.000 pagina's: geweigerd in {seconds:.1f} s, piek {peak:.0f} MB.")


@pytest.mark.slow
def test_a_2000_page_pdf_loads_in_bounded_memory_when_allowed(tmp_path, figures):
    from ingest.chunking import chunk_document

    path = thousands_of_pages(tmp_path / "jaarverslag.pdf")
    doc, seconds, peak = measured(lambda: load(path, max_pages=2000))
    assert not isinstance(doc, IngestError), doc
    chunks = chunk_document(doc, size=1100, overlap=150)
    assert len(doc.pages) == 2000 and chunks[-1].page_end == 2000
    assert peak < 150  # 2 MB of PDF; memory grows with its text, not with a tree of its pages
    figures.append(f"PDF van 2.000 pagina's (toegelaten): geladen in {seconds:.1f} s, piek {peak:.0f} MB, "
                   f"{len(chunks)} passages.")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "enorm.pdf"
    with path.open("wb") as fh:  # 3 GB, sparse: reading it would take seconds and gigabytes
        fh.truncate(3 * 1024**3)
    refused, seconds, peak = measured(lambda: load(path, max_file_mb=50))
    assert isinstance(refused, IngestError) and "te groot" in str(refused) and "50 MB" in str(refused)
    assert peak < 1 and seconds < 5


def test_an_image_only_pdf_needs_ocr(tmp_path):
    with pytest.raises(IngestError, match=r"geen tekstlaag \(OCR nodig\)"):
        load(image_only_pdf(tmp_path / "scan.pdf"))


def test_a_zip_bomb_named_pdf_is_never_unpacked(tmp_path):
    bomb = zip_bomb(tmp_path / "rapport.pdf")
    refused, _, peak = measured(lambda: load(bomb))
    assert isinstance(refused, IngestError) and "geen PDF: de inhoud is een zip-archief" in str(refused)
    assert peak < 5


def test_a_deflate_bomb_inside_a_pdf_stays_bounded(tmp_path):
    bomb = deflate_bomb_pdf(tmp_path / "bom.pdf")
    refused, _, peak = measured(lambda: load(bomb))
    assert isinstance(refused, IngestError) and "te groot is om uit te pakken" in str(refused)
    assert peak < 200  # pypdf inflates at most 75 MB per stream, never the 300 MB


def test_a_program_named_md_is_no_text(tmp_path):
    path = tmp_path / "notities.md"
    path.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 40)
    with pytest.raises(IngestError, match="geen tekst: de inhoud is een programma"):
        load(path)
    photo = tmp_path / "verslag.txt"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(IngestError, match="een afbeelding"):
        load(photo)


def test_unicode_text_from_notepad_is_still_text(tmp_path):
    path = tmp_path / "nota.txt"
    path.write_bytes("\ufeffDe vergadering over het budget is op maandag.".encode("utf-16-le"))
    assert "maandag" in load(path).blocks[0].text


def test_deeply_nested_html_is_refused_without_building_a_tree(tmp_path):
    path = tmp_path / "diep.html"
    path.write_text("<html><body><main>" + "<div>" * 100_000 + "<p>Verstopte tekst.</p>" + "</div>" * 100_000
                    + "</main></body></html>", encoding="utf-8")
    refused, seconds, peak = measured(lambda: load(path))
    assert isinstance(refused, IngestError) and "dieper genest dan 1000 niveaus" in str(refused)
    assert peak < 20


def test_html_with_scripts_styles_and_javascript_links_keeps_only_its_text(tmp_path):
    path = tmp_path / "aanvraag.html"
    path.write_text(SCRIPTED_HTML, encoding="utf-8")
    text = "\n".join(b.text for b in load(path).blocks)
    assert "Lees de regels voor de aanvraag voor je een aanvraag indient." in text
    assert "Een aanvraag dien je in voor 1 maart." in text
    for leak in ("alert", "javascript", "geheime code", "display", "color", "steal", "onclick"):
        assert leak not in text.lower(), leak


def test_markdown_with_raw_html_keeps_only_its_text(tmp_path):
    path = tmp_path / "subsidie.md"
    path.write_text(RAW_HTML_MARKDOWN, encoding="utf-8")
    text = "\n".join(b.text for b in load(path).blocks)
    assert "Een school kan tot 5.000 euro subsidie krijgen voor een leesproject." in text
    assert "Tekst met vet, een link en een span." in text
    for leak in ("onerror", "alert", "<img", "<script", "color", "steal", "verborgen", "iframe", "nooit gesloten"):
        assert leak not in text, leak


# -- names -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "saved"),
    [
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\Windows\\win.ini.txt", "win.ini.txt"),
        ("/absoluut/pad/nota.pdf", "nota.pdf"),
        ("-rf.md", "rf.md"),
        ("--help.txt", "help.txt"),
        ("  spaties   in de naam .md", "spaties in de naam.md"),
        ("cafe\u0301 ☕ verslag.MD", "café ☕ verslag.md"),  # NFD from a Mac becomes NFC
        ("nul\x00byte\x1b[31m.md", "nulbyte[31m.md"),
        ('wat?<script>"x".html', "wat__script__x.html"),
        (".verborgen.md", "verborgen.md"),
        ("a" * 400 + ".pdf", "a" * 150 + ".pdf"),
    ],
)
def test_upload_names_are_made_safe(given, saved):
    assert upload_name(given) == saved


@pytest.mark.parametrize("given", ["../", "....md", "-.md", "\u200b\u200b.md", "rapport.exe", "rapport", "rapport.pdf.zip"])
def test_upload_names_without_a_usable_name_or_type_are_refused(given):
    with pytest.raises(IngestError):
        upload_name(given)


def test_uploads_only_ever_land_inside_the_corpus_folder(tmp_path):
    corpus = tmp_path / "corpus"
    note = "# Nota\n\nDe vergadering is op maandag.\n".encode()
    for name in ("../../buiten.md", "../buiten.md", "sub/../../buiten.md", "-rf.md", "café ☕.md"):
        path = save_upload(corpus, name, note, max_file_mb=1)
        assert path.parent == corpus.resolve() and path.read_bytes() == note
    assert not (tmp_path / "buiten.md").exists() and not (tmp_path.parent / "buiten.md").exists()
    assert sorted(p.name for p in corpus.iterdir()) == ["buiten.md", "café ☕.md", "rf.md"]
    with pytest.raises(IngestError, match="te groot"):
        save_upload(corpus, "groot.md", b"x" * (2 * 1024 * 1024), max_file_mb=1)
    with pytest.raises(IngestError, match="geen PDF"):
        save_upload(corpus, "rapport.pdf", zip_bomb(tmp_path / "bom.zip").read_bytes(), max_file_mb=1)
    assert sorted(p.name for p in corpus.iterdir()) == ["buiten.md", "café ☕.md", "rf.md"]  # nothing half-written


# -- a whole batch ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_corpus_full_of_hostile_files_indexes_the_good_ones_and_says_why_not_the_rest(tmp_path, embedder):
    corpus = write_corpus(tmp_path / "corpus", names=("schoolfruit.md", "zwemles.md"))
    thousands_of_pages(corpus / "jaarverslag.pdf")
    image_only_pdf(corpus / "scan.pdf")
    zip_bomb(corpus / "rapport.pdf")
    (corpus / "notities.md").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 40)
    (corpus / "diep.html").write_text("<div>" * 5000 + "tekst" + "</div>" * 5000, encoding="utf-8")
    (corpus / "aanvraag.html").write_text(SCRIPTED_HTML, encoding="utf-8")
    (corpus / "subsidie.md").write_text(RAW_HTML_MARKDOWN, encoding="utf-8")
    for name in ("-rf.md", "met spaties.md", "café ☕.md"):
        (corpus / name).write_text(f"# {name}\n\nDit document heet {name} en gaat over het budget van de klas.\n",
                                   encoding="utf-8")
    (corpus / "zwemles (kopie).md").write_bytes((corpus / "zwemles.md").read_bytes())
    with (corpus / "enorm.txt").open("wb") as fh:
        fh.truncate(60 * 1024 * 1024)

    settings = make_settings(tmp_path, corpus=corpus)
    report = ingest(settings, embedder, open_index(settings))
    reasons = {s.path: s.reason for s in report.skipped}
    # The first of two identical files (in name order) is indexed, the other is skipped.
    assert set(reasons) == {"jaarverslag.pdf", "scan.pdf", "rapport.pdf", "notities.md", "diep.html",
                            "zwemles.md", "enorm.txt"}
    assert "OCR nodig" in reasons["scan.pdf"] and "zelfde inhoud als zwemles (kopie).md" in reasons["zwemles.md"]
    assert "te groot" in reasons["enorm.txt"] and "maximum is 1000" in reasons["jaarverslag.pdf"]
    assert "geen PDF" in reasons["rapport.pdf"] and "geen tekst" in reasons["notities.md"]
    assert "genest" in reasons["diep.html"]
    assert set(live_chunks(settings).values()) == {
        "schoolfruit.md", "zwemles (kopie).md", "aanvraag.html", "subsidie.md", "-rf.md", "met spaties.md", "café ☕.md"
    }

    # Removing the indexed copy lets the other in; the two never stand in the index side by side.
    (corpus / "zwemles (kopie).md").unlink()
    report = ingest(settings, embedder, open_index(settings))
    assert "zwemles.md" not in {s.path for s in report.skipped}
    sources = set(live_chunks(settings).values())
    assert "zwemles.md" in sources and "zwemles (kopie).md" not in sources
