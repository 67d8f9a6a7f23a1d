"""What every page shares in the browser: Vraagpunt's stylesheet, the page language and a skip link."""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

STYLESHEET = Path(__file__).with_name("vraagpunt.css")
FAVICON = Path(__file__).with_name("favicon.png")  # a local file: a :material/…: icon is fetched from Google

# Streamlit's page shell says <html lang="en"> and offers no setting for it (streamlit/streamlit#15726), so
# a screen reader would read the Dutch text with English pronunciation. The skip link goes first on the
# page, before the header and the sidebar, straight to the question box (or the page's heading).
_SCRIPT = """<script>
(() => {
  const doc = document;
  doc.documentElement.lang = "nl";
  let link = doc.getElementById("vp-skip");
  if (!link) {
    link = doc.createElement("a");
    link.id = "vp-skip";
    link.className = "vp-skip";
    link.href = "#stMain";  // a real target on the page: axe (and browsers) know it as a skip link
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const input = doc.querySelector('[data-testid="stChatInputTextArea"]');
      const target = input || doc.querySelector('[data-testid="stMain"] h1');
      if (!target) return;
      if (!input) target.setAttribute("tabindex", "-1");
      target.focus();
    });
    doc.body.prepend(link);
  }
  link.textContent = LABEL;
})();
</script>"""


def install(skip_label: str) -> None:
    """Load the stylesheet and the page script; `skip_label` names where the skip link goes."""
    st.html(STYLESHEET)  # styles only: Streamlit puts them where they take no room
    with st.container(key="vp-shell"):  # hidden by the stylesheet
        st.html(_SCRIPT.replace("LABEL", json.dumps(skip_label)), unsafe_allow_javascript=True)
