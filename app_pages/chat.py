"""The chat page: questions in, streamed answers with numbered, checkable sources out."""

from __future__ import annotations

import uuid
from pathlib import Path

import streamlit as st

from app_pages import resources
from app_pages.render import (
    answer_html,
    block_html,
    badge_html,
    escape_markdown,
    passage_html,
    shorten,
    text_html,
)
from retrieval.search import SearchFilter
from vraagpunt.errors import VraagpuntError
from vraagpunt.settings import Settings
from vraagpunt.types import Answer, Citation, answer_to_dict

ALL = "Alle documenten"
FILTERS = {
    ALL: (),
    "Oproepregels en FAQ": ("faq",),
    "Rapporten": ("report",),
    "Webpagina's": ("webpage",),
}
EXAMPLES = {
    "Voor leraren": [
        "Wat is een begeleidingsproject?",
        "Hoe kan onze school ondersteuning krijgen bij brede basiszorg?",
    ],
    "Voor aanvragers": [
        "Hoeveel overhead mag ik aanrekenen bij een valorisatieproject?",
        "Hoeveel geld kan ik maximaal vragen voor een valorisatieproject?",
    ],
}
# "Gelezen als" names how a question was read, not the question again: a long one is cut.
READ_AS_CHARS = 160
FILTER_WIDGET = "kind_filter"
FILTER_CHOICE = "search_in"  # survives a visit to another page; the widget's own state does not
QUESTION_INPUT = "question"
MIME = {".pdf": "application/pdf", ".md": "text/markdown", ".txt": "text/plain", ".html": "text/html", ".htm": "text/html"}


def _messages() -> list[dict]:
    return st.session_state.setdefault("messages", [])


def _new_conversation() -> None:
    st.session_state["messages"] = []


def _ask(question: str) -> None:
    st.session_state["pending_question"] = question


def _search_everywhere(question: str) -> None:
    """After a refusal under a filter: ask the same question again in all documents."""
    st.session_state[FILTER_WIDGET] = st.session_state[FILTER_CHOICE] = ALL
    _ask(question)


def _filter_choice() -> str:
    """The "Zoeken in" box, showing the user's last choice also after a visit to another page.

    Streamlit forgets a widget's state when a page without it runs; the choice is kept apart and
    handed back before the box is drawn.
    """
    if FILTER_WIDGET not in st.session_state:
        st.session_state[FILTER_WIDGET] = st.session_state.get(FILTER_CHOICE, ALL)
    choice = st.selectbox("Zoeken in", list(FILTERS), key=FILTER_WIDGET, placeholder="Kies een soort document")
    st.session_state[FILTER_CHOICE] = choice
    return choice


def _typed_question() -> str:
    """The question just sent with the input box or an example button; blank input is no question."""
    typed = st.session_state.get(QUESTION_INPUT) or ""
    pending = st.session_state.pop("pending_question", None) or ""
    return typed.strip() or pending.strip()


def _history(messages: list[dict]) -> list[dict]:
    return [{"role": m["role"], "content": m["content"]} for m in messages]


# -- feedback ------------------------------------------------------------------------------------
def _on_feedback(message_id: str) -> None:
    message = next((m for m in _messages() if m["id"] == message_id), None)
    thumbs = st.session_state.get(f"fb-{message_id}")
    if message is None or thumbs is None:
        return
    store = resources.feedback_store(resources.settings())
    if message.get("feedback_id"):
        store.update(message["feedback_id"], thumbs=thumbs)
        return
    answer: Answer = message["answer"]
    data = answer_to_dict(answer)
    message["feedback_id"] = store.add(
        question=answer.question,
        answer=answer.text,
        citations=data["citations"],
        thumbs=thumbs,
        standalone_question=answer.standalone_question,
        refused=answer.refused,
    )


def _on_comment(message_id: str) -> None:
    message = next((m for m in _messages() if m["id"] == message_id), None)
    comment = (st.session_state.get(f"fbc-{message_id}") or "").strip()
    if message is None or not message.get("feedback_id"):
        return
    resources.feedback_store(resources.settings()).update(message["feedback_id"], comment=comment)
    message["comment_saved"] = bool(comment)


def _feedback(message: dict) -> None:
    mid = message["id"]
    st.feedback("thumbs", key=f"fb-{mid}", on_change=_on_feedback, args=(mid,))
    if message.get("feedback_id"):
        st.text_input(
            "Toelichting (optioneel)",
            key=f"fbc-{mid}",
            on_change=_on_comment,
            args=(mid,),
            placeholder="Wat was goed of wat ontbrak? Druk op Enter om te versturen.",
            label_visibility="collapsed",
        )
        st.caption("Bedankt voor je feedback!" if message.get("comment_saved") else "Bedankt! Je kunt nog een toelichting geven.")


# -- sources -------------------------------------------------------------------------------------
def _reader(path: Path):
    return lambda: path.read_bytes()


def _source_card(config: Settings, message_id: str, citation: Citation, refused: bool) -> None:
    chunk = citation.hit.chunk
    with st.container(border=True):
        # Title, section and passage come from the document: HTML text, never Markdown (no links).
        title = text_html(chunk.title or chunk.source)
        st.html(block_html(f"{badge_html(citation.n)} {title}", "vp-card-title"))
        meta = [chunk.page_label, chunk.section, resources.KIND_LABELS.get(chunk.kind, chunk.kind)]
        st.html(block_html(text_html(" · ".join(m for m in meta if m)), "vp-caption"))
        if refused:
            st.html(block_html(text_html(shorten(chunk.text, 280)), "vp-excerpt"))
        with st.expander("Hele passage lezen"):
            if citation.sentences:
                st.caption("Gemarkeerd en onderstreept: de zinnen die het antwoord aanhaalt.")
            st.html(passage_html(chunk.text, citation.sentences))
        path = config.corpus_dir / chunk.source
        if path.is_file():
            # A row of its own: in a narrow column a page range like "p. 117-118" was cut off.
            label = f"Download bron ({chunk.page_label})" if path.suffix.lower() == ".pdf" and chunk.page_label else "Download bron"
            st.download_button(
                label,
                data=_reader(path),
                file_name=path.name,
                mime=MIME.get(path.suffix.lower(), "application/octet-stream"),
                key=f"dl-{message_id}-{citation.n}",
                on_click="ignore",
                icon=":material/download:",
                type="tertiary",
            )


def _answer_details(config: Settings, message: dict) -> None:
    """Everything under the answer text: sources, refusal state, feedback."""
    answer: Answer = message["answer"]
    searched = message.get("filter", ALL)
    if answer.refused and searched != ALL and answer.standalone_question:
        st.markdown(
            f"Je zocht alleen in **{escape_markdown(searched)}**. Het antwoord kan in een ander soort "
            "document staan."
        )
        st.button(
            "Zoek in alle documenten",
            key=f"all-{message['id']}",
            on_click=_search_everywhere,
            args=(answer.question,),
            icon=":material/travel_explore:",
        )
    if answer.refused:
        if answer.citations:
            st.markdown("**Mogelijk relevante passages**")
            st.caption("Ze delen een woord met je vraag, maar beantwoorden haar niet.")
    elif answer.citations:
        st.markdown("**Bronnen**")
    for citation in answer.citations:
        _source_card(config, message["id"], citation, answer.refused)
    _feedback(message)


def read_as(answer: Answer) -> str:
    """How the question was read, when that differs from what was typed; shortened, else empty.

    A question cut to the length limit is not "read as" something else: the notice says it was cut.
    """
    asked = " ".join(answer.question.split())
    read = answer.standalone_question
    if not read or read == asked or asked.startswith(read):
        return ""
    return shorten(read, READ_AS_CHARS)


def _caption(text: str) -> None:
    """A caption whose text may hold the user's or a document's words: HTML text, not Markdown."""
    st.html(block_html(text_html(text), "vp-caption"))


def _answer_head(answer: Answer, searched: str) -> None:
    if read_as(answer):
        _caption(f"Gelezen als: {read_as(answer)}")
    if searched != ALL:
        _caption(f"Gezocht in: {searched}")
    if answer.notice:
        _caption(answer.notice)


def _answer_body(answer: Answer) -> None:
    if answer.refused:
        st.info(escape_markdown(answer.text), icon=":material/search_off:")
    else:
        st.html(answer_html(answer.text, answer.direct))
        if answer.direct:
            st.caption("Vetgedrukt: de zinnen die je vraag het meest rechtstreeks beantwoorden.")


def _render_message(config: Settings, message: dict) -> None:
    if message["role"] == "user":
        with st.chat_message("user"):
            st.text(message["content"])  # as typed: no Markdown, no "--" turned into a dash
        return
    with st.chat_message("assistant", avatar=":material/school:"):
        _answer_head(message["answer"], message.get("filter", ALL))
        _answer_body(message["answer"])
        _answer_details(config, message)


def _stream_answer(config: Settings, assistant, question: str, searched: str) -> dict:
    """Stream the answer into a chat bubble; the final Answer object is what gets shown and kept."""
    history = _history(_messages())
    with st.chat_message("user"):
        st.text(question)
    answer: Answer | None = None
    with st.chat_message("assistant", avatar=":material/school:"):
        head = st.container()
        body = st.empty()
        shown = ""
        with st.spinner("Vraagpunt zoekt in de documenten…"):
            for item in assistant.stream(question, history, SearchFilter(kinds=FILTERS[searched])):
                # Text pieces are str; anything else is the final Answer (not isinstance(Answer): a dev-mode
                # module reload can leave the cached Assistant with an older Answer class).
                if isinstance(item, str):
                    shown += item
                    body.text(shown)  # plain text while it streams; the final answer replaces it
                else:
                    answer = item
        assert answer is not None
        with head:
            _answer_head(answer, searched)
        with body.container():
            _answer_body(answer)
        message = {"id": uuid.uuid4().hex[:12], "role": "assistant", "content": answer.text, "answer": answer,
                   "filter": searched}
        _messages().extend([{"id": uuid.uuid4().hex[:12], "role": "user", "content": question}, message])
        _answer_details(config, message)
    return message


def _empty_state() -> None:
    st.markdown("## Waarmee kan ik helpen?")  # h2 under the page's h1: headings in order
    st.caption("Kies een voorbeeldvraag of typ zelf een vraag hieronder.")
    columns = st.columns(len(EXAMPLES))
    for column, (group, questions) in zip(columns, EXAMPLES.items()):
        with column:
            st.markdown(f"**{group}**")
            for i, q in enumerate(questions):
                st.button(q, key=f"example-{group}-{i}", on_click=_ask, args=(q,), width="stretch", wrap=True)


def main() -> None:
    st.set_page_config(layout="centered")
    config = resources.settings()
    try:
        assistant = resources.assistant(config)
    except VraagpuntError as exc:
        resources.stop_on_error(exc)

    with st.sidebar:
        choice = _filter_choice()
        st.button("Nieuw gesprek", icon=":material/add_comment:", on_click=_new_conversation, width="stretch")
        st.caption("Antwoorden komen letterlijk uit de documenten van Leerpunt. Controleer ze via de bronnen.")

    st.title("Vraagpunt")
    st.caption("Stel je vraag over de documenten van Leerpunt. Elk antwoord citeert de passages waarop het steunt.")

    question = _typed_question()
    messages = _messages()
    if not messages and not question:
        # Before the first question the box sits under the examples. Pinned to the bottom, Streamlit keeps
        # the page scrolled to its end, which on a phone pushed the title under the header.
        _empty_state()
        with st.container():
            st.chat_input("Stel je vraag over Leerpunt…", key=QUESTION_INPUT)
        return
    st.chat_input("Stel je vraag over Leerpunt…", key=QUESTION_INPUT)
    for message in messages:
        _render_message(config, message)
    if question:
        try:
            _stream_answer(config, assistant, question, choice)
        except VraagpuntError as exc:
            resources.stop_on_error(exc)


main()
