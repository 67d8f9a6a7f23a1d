"""Vraagpunt's web app: chat with Leerpunt's documents, manage them, and measure answer quality.

Run with `make run` (ingest, then `streamlit run app.py`). Settings come from `.env` and VRAAGPUNT_* variables.
"""

from __future__ import annotations

import streamlit as st

from vraagpunt.settings import configure_runtime

configure_runtime()

from app_pages import resources, shell  # noqa: E402  (after configure_runtime: the libraries read those switches)
from vraagpunt.errors import VraagpuntError  # noqa: E402

# The icon is a file served by the app itself: a :material/…: page icon makes the browser fetch it from Google.
st.set_page_config(page_title="Vraagpunt", page_icon=str(shell.FAVICON), layout="centered")

try:
    settings = resources.settings()
    with st.spinner("Vraagpunt wordt geladen…"):
        resources.assistant(settings)
except VraagpuntError as exc:
    shell.install("Naar de inhoud van de pagina")
    st.title("Vraagpunt")
    resources.stop_on_error(exc)

chat = st.Page("app_pages/chat.py", title="Vraagpunt", icon=":material/forum:", default=True)
page = st.navigation(
    [
        chat,
        st.Page("app_pages/documents.py", title="Documenten", icon=":material/folder_open:"),
        st.Page("app_pages/evaluation.py", title="Evaluatie", icon=":material/monitoring:"),
    ]
)
shell.install("Naar het vraagveld" if page.url_path == chat.url_path else "Naar de inhoud van de pagina")
page.run()
