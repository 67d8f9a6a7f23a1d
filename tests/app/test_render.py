"""What the app writes into the page for document text: escaped HTML, our own markup only."""

from __future__ import annotations

from app_pages.render import answer_html, passage_html, shorten, text_html


def test_document_text_stays_text():
    # Markdown would link the address and the URL and turn "--" and "->" into arrows and dashes.
    title = 'Analyserapport Leerkr@cht.net -- zie www.leerpunt.be of http://x.be -> <b>"1 & 2"</b> **niet vet**'
    shown = text_html(title)
    assert "<a" not in shown and "<b>" not in shown and "<strong>" not in shown
    assert shown == 'Analyserapport Leerkr@cht.net -- zie www.leerpunt.be of http://x.be -&gt; &lt;b&gt;"1 &amp; 2"&lt;/b&gt; **niet vet**'


def test_answer_marks_its_direct_sentences_and_numbers_its_sources():
    text = "Er is 10% overhead. <script>x</script> Meer niet. [1]"
    shown = answer_html(text, [(0, 19)])
    assert shown.startswith('<div class="vp-text vp-answer"><strong>Er is 10% overhead.</strong>')
    assert "&lt;script&gt;" in shown and "<script>" not in shown
    assert '<span class="vp-badge"><span class="vp-sr-only">bron </span>1</span>' in shown


def test_passage_marks_the_cited_sentences_across_line_breaks():
    passage = "Vraag?\nEr wordt een maximum van 10%\noverhead toegestaan. Rest."
    shown = passage_html(passage, ["Er wordt een maximum van 10% overhead toegestaan."])
    assert '<mark class="vp-cited">Er wordt een maximum van 10%\noverhead toegestaan.</mark> Rest.' in shown
    assert passage_html("a <i>b</i>") == '<div class="vp-text vp-passage">a &lt;i&gt;b&lt;/i&gt;</div>'


def test_shorten_cuts_at_a_word():
    assert shorten("kort", 10) == "kort"
    cut = shorten("een " * 100, 40)
    assert len(cut) <= 40 and cut.endswith("een…")
