"""The chat page: questions in, streamed answers with numbered, checkable sources out."""

from __future__ import annotations

import uuid
from pathlib import Path

import streamlit as st

from app_pages import resources
from app_pages.render import answer_markdown, escape_markdown, passage_markdown
from retrieval.search import SearchFilter
from vraagpunt.errors import VraagpuntError
from vraagpunt.settings import Settings
from vraagpunt.types import Answer, Citation, answer_to_dict

FILTERS = {
    "Alle documenten": (),
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
MIME = {".pdf": "application/pdf", ".md": "text/markdown", ".txt": "text/plain", ".html": "text/html", ".htm": "text/html"}


def _messages() -> list[dict]:
    return st.session_state.setdefault("messages", [])


def _new_conversation() -> None:
    st.session_state["messages"] = []


def _ask(question: str) -> None:
    st.session_state["pending_question"] = question


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
        head, action = st.columns([4, 1.4], vertical_alignment="top")
        with head:
            st.markdown(f":blue-badge[{citation.n}] **{escape_markdown(chunk.title or chunk.source)}**")
            meta = [chunk.page_label, chunk.section, resources.KIND_LABELS.get(chunk.kind, chunk.kind)]
            st.caption(" · ".join(escape_markdown(m) for m in meta if m))
        path = config.corpus_dir / chunk.source
        with action:
            if path.is_file():
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
        if refused:
            excerpt = " ".join(chunk.text.split())
            st.markdown(escape_markdown(excerpt[:280] + ("…" if len(excerpt) > 280 else "")))
        with st.expander("Hele passage lezen"):
            st.markdown(passage_markdown(chunk.text, citation.sentences))


def _answer_details(config: Settings, message: dict) -> None:
    """Everything under the answer text: sources, refusal state, feedback."""
    answer: Answer = message["answer"]
    if answer.refused:
        if answer.citations:
            st.markdown("**Mogelijk relevante passages**")
    elif answer.citations:
        st.markdown("**Bronnen**")
    for citation in answer.citations:
        _source_card(config, message["id"], citation, answer.refused)
    _feedback(message)


def _answer_head(answer: Answer) -> None:
    asked = " ".join(answer.question.split())
    if answer.standalone_question and answer.standalone_question != asked:
        st.caption(f"Gelezen als: {escape_markdown(answer.standalone_question)}")
    if answer.notice:
        st.caption(f":material/info: {escape_markdown(answer.notice)}")


def _answer_body(answer: Answer) -> None:
    if answer.refused:
        st.info(escape_markdown(answer.text), icon=":material/search_off:")
    else:
        st.markdown(answer_markdown(answer.text, answer.direct))
        if answer.direct:
            st.caption("Vetgedrukt: de zinnen die je vraag het meest rechtstreeks beantwoorden.")


def _render_message(config: Settings, message: dict) -> None:
    if message["role"] == "user":
        with st.chat_message("user"):
            st.markdown(escape_markdown(message["content"]))
        return
    with st.chat_message("assistant", avatar=":material/school:"):
        _answer_head(message["answer"])
        _answer_body(message["answer"])
        _answer_details(config, message)


def _stream_answer(config: Settings, assistant, question: str, kinds: tuple[str, ...]) -> dict:
    """Stream the answer into a chat bubble; the final Answer object is what gets shown and kept."""
    history = _history(_messages())
    with st.chat_message("user"):
        st.markdown(escape_markdown(question))
    final: dict[str, Answer] = {}

    def pieces():
        for item in assistant.stream(question, history, SearchFilter(kinds=kinds)):
            # Text pieces are str; anything else is the final Answer (not isinstance(Answer): a dev-mode
            # module reload can leave the cached Assistant with an older Answer class).
            if isinstance(item, str):
                yield escape_markdown(item)
            else:
                final["answer"] = item

    with st.chat_message("assistant", avatar=":material/school:"):
        head = st.container()
        body = st.empty()
        with body.container(), st.spinner("Vraagpunt zoekt in de documenten…"):
            st.write_stream(pieces())
        answer = final["answer"]
        with head:
            _answer_head(answer)
        with body.container():
            _answer_body(answer)
        message = {"id": uuid.uuid4().hex[:12], "role": "assistant", "content": answer.text, "answer": answer}
        _messages().extend([{"id": uuid.uuid4().hex[:12], "role": "user", "content": question}, message])
        _answer_details(config, message)
    return message


def _empty_state() -> None:
    st.markdown("#### Waarmee kan ik helpen?")
    st.caption("Kies een voorbeeldvraag of typ zelf een vraag onderaan.")
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
        choice = st.selectbox("Zoeken in", list(FILTERS), key="kind_filter")
        st.button("Nieuw gesprek", icon=":material/add_comment:", on_click=_new_conversation, width="stretch")
        st.caption("Antwoorden komen letterlijk uit de documenten van Leerpunt. Controleer ze via de bronnen.")

    st.title("Vraagpunt")
    st.caption("Stel je vraag over de documenten van Leerpunt. Elk antwoord citeert de passages waarop het steunt.")

    typed = st.chat_input("Stel je vraag over Leerpunt…")
    question = typed or st.session_state.pop("pending_question", None)
    messages = _messages()
    if not messages and not question:
        _empty_state()
    for message in messages:
        _render_message(config, message)
    if question:
        try:
            _stream_answer(config, assistant, question, FILTERS[choice])
        except VraagpuntError as exc:
            resources.stop_on_error(exc)


main()
