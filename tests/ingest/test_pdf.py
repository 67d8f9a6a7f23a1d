"""PDF loading through real pypdf: pages, running heads, hyphenation, broken files."""

from __future__ import annotations

import pytest
from pypdf import PdfWriter

from ingest.loaders import load_document
from ingest.manifest import DocumentInfo
from ingest.pdf import read_pdf
from ingest.textclean import dehyphenate, squash
from tests.conftest import CORPUS
from tests.pdfmaker import make_pdf
from vraagpunt.errors import IngestError

QA_PDF = CORPUS / "valorisatieprojecten-qa-infosessie-2025.pdf"


def _page_of(doc, needle: str) -> int:
    pages = [p.number for p in doc.pages if needle in p.text]
    assert pages, f"{needle!r} not found"
    return pages[0]


def test_real_pdf_keeps_page_numbers():
    doc = load_document(QA_PDF, QA_PDF.name, DocumentInfo(kind="faq"))
    assert len(doc.pages) == 7
    assert _page_of(doc, "maximum van 10% overhead") == 7
    assert _page_of(doc, "huisstijl van Leerpunt") == 2


def test_running_header_and_page_numbers_are_removed():
    doc = load_document(QA_PDF, QA_PDF.name, DocumentInfo(kind="faq"))
    title = "Q&A Ontwikkeling van valorisatieproducten om evidence-informed klaspraktijken te versterken"
    for page in doc.pages[1:]:
        assert not page.text.startswith(title)
        assert not page.text.rstrip().splitlines()[-1].strip().isdigit()


def test_justified_double_spaces_are_normalized():
    doc = load_document(QA_PDF, QA_PDF.name, DocumentInfo(kind="faq"))
    assert all("  " not in p.text for p in doc.pages)


def test_footnote_references_that_lost_their_superscript_are_removed():
    # The report's references were set as plain digits: "technologie13.", "context)14.", "(2013)7".
    _, pages = read_pdf(CORPUS / "analyserapport-actieprogramma-digitale-school.pdf")
    text = " ".join(t for page in pages for t, _ in page.paragraphs)
    assert "onderwijzen met technologie. De afkorting" in text
    assert "realistische context)." in text and "technologie13" not in text
    assert "13 Voogt, J." in text  # the footnote itself stays
    # Digits after a name, late in the report and out of the run of references, are part of the name.
    assert "TACCLE2" in text and "Lab9" in text


def test_synthetic_pdf_header_footer_and_hyphenation(tmp_path):
    path = make_pdf(
        tmp_path / "t.pdf",
        [
            ["Mag ik de kosten inbrengen?", "", "Ja, de vracht- en verzendkosten en de ontwik-", "keling van materiaal tellen mee.", "", "Dat geldt voor in- en uitvoer."],
            ["Tweede pagina met gewone tekst.", "Nog een zin over het budget-", "plan van het project."],
        ],
        header="Kopregel van het document",
        title="Testdocument",
    )
    title, pages = read_pdf(path)
    assert title == "Testdocument"
    text = "\n".join(t for p in pages for t, _ in p.paragraphs)
    assert "Kopregel" not in text
    assert "vracht- en verzendkosten" in text
    assert "ontwikkeling" in text and "budgetplan" in text
    assert "in- en uitvoer" in text
    assert [p.number for p in pages] == [1, 2]
    assert not any(t.strip() in ("1", "2") for p in pages for t, _ in p.paragraphs)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("de ontwik-\nkeling", "de ontwikkeling"),
        ("vracht-\nen verzendkosten", "vracht- en verzendkosten"),
        ("vracht- en\nverzendkosten", "vracht- en\nverzendkosten"),
        ("in-\nof uitvoer", "in- of uitvoer"),
        ("e-\nmail", "email"),
    ],
)
def test_dehyphenate_keeps_suspended_compounds(raw, expected):
    assert dehyphenate(raw) == expected


def test_encrypted_pdf_is_refused_with_reason(tmp_path):
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt(user_password="geheim", owner_password="eigenaar")
    path = tmp_path / "geheim.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(IngestError, match="versleuteld"):
        read_pdf(path)


def test_empty_and_broken_pdfs_are_refused_with_reason(tmp_path):
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    blank = tmp_path / "leeg.pdf"
    with blank.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(IngestError, match="geen tekst"):
        read_pdf(blank)
    broken = tmp_path / "kapot.pdf"
    broken.write_bytes(QA_PDF.read_bytes()[:1500])
    with pytest.raises(IngestError):
        load_document(broken, broken.name, DocumentInfo())


def test_squash_ignores_whitespace_and_punctuation():
    assert squash("10%  overhead,\nberekend") == squash("10% overhead berekend")
