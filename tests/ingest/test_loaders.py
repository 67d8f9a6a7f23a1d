"""Markdown, HTML and text loaders and structure-aware chunking on real corpus files."""

from __future__ import annotations

import re

from ingest.chunking import chunk_document, sentence_units
from ingest.loaders import load_document
from ingest.manifest import DocumentInfo, read_manifest
from ingest.structure import classify
from tests.conftest import CORPUS


def _load(name: str, **info):
    manifest = read_manifest(CORPUS)
    return load_document(CORPUS / name, name, DocumentInfo(**info) if info else manifest.get(name, DocumentInfo()))


def test_manifest_gives_titles_and_kinds():
    manifest = read_manifest(CORPUS)
    assert manifest["valorisatieprojecten-qa-infosessie-2025.pdf"].kind == "faq"
    assert {e.kind for e in manifest.values()} <= {"faq", "report", "webpage"}


def test_markdown_heading_path_becomes_section():
    doc = _load("leerpunt-jaarverslag-2025.md")
    chunks = chunk_document(doc, size=1100, overlap=150)
    triang = [c for c in chunks if "Triangulatie" in c.section]
    assert triang and all(" > " in c.section for c in triang)
    assert not any("**" in c.text or "](" in c.text for c in chunks)


def test_inline_html_in_markdown_leaves_only_its_text():
    raw = (CORPUS / "leerpunt-jaarverslag-2025.md").read_text(encoding="utf-8")
    assert "<b>329.855</b> bereikte accounts" in raw and "T<sup>2</sup>" in raw
    doc = _load("leerpunt-jaarverslag-2025.md")
    text = "\n".join(b.text for b in doc.blocks)
    assert "329.855 bereikte accounts" in text and "Vitamine T2: taalvitamines" in text
    assert "<b>" not in text and "</sup>" not in text


def test_html_keeps_main_text_only():
    doc = _load("begeleidingsprojecten-brede-basiszorg.html")
    text = " ".join(b.text for b in doc.blocks)
    assert "Een begeleidingsproject bij Leerpunt is een project" in text
    raw = (CORPUS / "begeleidingsprojecten-brede-basiszorg.html").read_text(encoding="utf-8")
    assert "<script" in raw and "<nav" in raw
    assert "function" not in text and "Over Leerpunt" not in text
    assert doc.kind == "webpage"


def test_plain_text_in_cp1252_is_decoded(tmp_path):
    path = tmp_path / "nota.txt"
    path.write_bytes("Dit is een nota over het budget van €30.000 voor scholen in België.\n\nTweede alinea.".encode("cp1252"))
    doc = load_document(path, path.name, DocumentInfo())
    assert "€30.000" in doc.blocks[0].text and "België" in doc.blocks[0].text
    assert doc.title == "Nota"


def test_a_sentence_cut_by_a_page_break_or_a_line_gap_is_one_paragraph_again():
    _, blocks = classify(
        [
            (3, "Tegelijk zijn er randvoorwaarden. De randvoorwaarden moeten"),
            (4, "met elkaar in balans zijn opdat de scholen succes boeken."),
            (4, "Er is nood aan een netwerk binnen en buiten de school, netten,"),
            (4, "onderwijssector, arbeidsmarkt, etc."),
            (4, "Dit is af."),
            (4, "kleine letter, maar een nieuwe alinea na een afgeronde zin."),
        ],
        faq=False,
    )
    texts = [b.text for b in blocks]
    assert texts[0] == "Tegelijk zijn er randvoorwaarden. De randvoorwaarden moeten met elkaar in balans zijn opdat de scholen succes boeken."
    assert blocks[0].page == 3  # cited from the page the sentence starts on
    assert texts[1] == "Er is nood aan een netwerk binnen en buiten de school, netten, onderwijssector, arbeidsmarkt, etc."
    assert texts[2:] == ["Dit is af.", "kleine letter, maar een nieuwe alinea na een afgeronde zin."]


def test_answer_units_of_a_typeset_report_are_whole_sentences():
    # Before paragraphs were rejoined, 169 units of this report stopped mid-sentence ("… moeten" /
    # "met elkaar …"): half sentences in answers and in the sentence vectors.
    chunks = chunk_document(_load("analyserapport-actieprogramma-digitale-school.pdf"), size=1100, overlap=150)
    cut = [
        (a, b) for c in chunks for a, b in zip(sentence_units(c), sentence_units(c)[1:])
        if a[-1] not in ".?!:;)”’'" and b[:1].islower()
    ]
    assert len(cut) <= 2, cut


def test_a_bare_link_before_an_answer_is_a_unit_of_its_own():
    # The Q&A has a stray link line between a question and its answer; it was quoted as the start
    # of the answer ("https://leerpunt.be/… Als je op een onderzoeksproject …").
    chunks = chunk_document(_load("valorisatieprojecten-qa-infosessie-2025.pdf"), size=1100, overlap=150)
    units = [u for c in chunks for u in sentence_units(c)]
    assert any(u.startswith("Als je op een onderzoeksproject aan de slag was") for u in units)
    assert not any(re.match(r"https?://\S+\s+[A-Z]", u) for u in units)


def test_faq_questions_stay_with_their_answers():
    doc = _load("valorisatieprojecten-qa-infosessie-2025.pdf")
    chunks = chunk_document(doc, size=1100, overlap=150)
    overhead = [c for c in chunks if "Is overhead op het budget toegelaten" in c.text]
    assert len(overhead) == 1
    assert "maximum van 10% overhead" in overhead[0].text
    assert overhead[0].question.startswith("Is overhead")
    assert overhead[0].page_start == 7
    # Long answers are split, but every part still knows its question.
    questions = [c for c in chunks if c.question]
    assert len(questions) >= 30


def test_faq_questions_hidden_in_paragraphs_are_recovered():
    doc = _load("valorisatieprojecten-qa-infosessie-2025.pdf")
    questions = [b.text for b in doc.blocks if b.kind == "question"]
    # Typeset at the end of the previous answer's paragraph.
    assert "Kan een nascholing onderdeel zijn van het product binnen een valorisatieproject?" in questions
    # Typeset as the first sentence of its own answer's paragraph.
    assert any(q.startswith("Als je indient met een consortium, gaat het budget dan naar één partner") for q in questions)
    # Broken by a page break: the start of the question is on the page before.
    assert any(q.startswith("Wat met projecten vanuit de Vlaamse Overheid") and q.endswith("Komen deze wel nog in aanmerking?") for q in questions)
    # Answers are not mistaken for questions.
    assert not any(q.startswith("In deze oproep is er €150.000") for q in questions)
    chunks = chunk_document(doc, size=1100, overlap=150)
    nascholing = [c for c in chunks if "Een betalende nascholing is geen mogelijkheid" in c.text]
    assert nascholing and nascholing[0].question.startswith("Kan een nascholing")
    # A question that sets out its case after a colon, without "?": its answer is the next paragraph.
    assert any(q.startswith("Komt het volgende in aanmerking: Als output van een pilootproject") for q in questions)
    tool = next(c for c in chunks if "Als we deze vraag goed begrijpen" in c.text)
    assert tool.question.startswith("Komt het volgende in aanmerking")


def test_numbered_answers_get_their_numbered_questions():
    # The press Q&A lists questions 1-4 first and answers them further on as "1-3." and "4.".
    doc = _load("extra-middelen-zorg-op-school.pdf")
    chunks = chunk_document(doc, size=1100, overlap=150)
    answer = next(c for c in chunks if c.text.startswith("1-3."))
    assert "Zal Leerpunt actief op scholen aanwezig zijn?" in answer.question
    assert "Zijn daar specifieke onderzoeksthema’s voor bepaald?" in answer.question
    toolkits = next(c for c in chunks if c.text.startswith("4. Momenteel zijn er twee toolkits"))
    assert toolkits.question.startswith("Hoe moeten we die twee toolkits lezen")
    # The list of questions itself is no answer: no chunk holds only a question.
    assert all(c.text.strip() != c.question for c in chunks)


def test_chunk_ids_are_stable_and_offsets_point_into_the_page():
    doc = _load("extra-middelen-zorg-op-school.pdf")
    first = chunk_document(doc, size=1100, overlap=150)
    second = chunk_document(_load("extra-middelen-zorg-op-school.pdf"), size=1100, overlap=150)
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
    pages = {p.number: p.text for p in doc.pages}
    for chunk in first:
        head = chunk.text.split("\n")[0][:40]
        assert pages[chunk.page_start][chunk.char_start:].startswith(head)


def test_chunk_size_is_a_setting():
    doc = _load("leerpunt-jaarverslag-2025.md")
    small = chunk_document(doc, size=400, overlap=50)
    large = chunk_document(doc, size=1500, overlap=150)
    assert len(small) > len(large)
