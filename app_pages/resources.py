"""What every page shares: settings, the one Assistant per configuration, the feedback store."""

from __future__ import annotations

import streamlit as st

from app_pages.feedback import FeedbackStore
from retrieval.assistant import Assistant, make_assistant
from vraagpunt.errors import VraagpuntError
from vraagpunt.settings import Settings

KIND_LABELS = {"faq": "Oproepregels en FAQ", "report": "Rapport", "webpage": "Webpagina"}


def settings() -> Settings:
    """Settings from defaults, `.env` and VRAAGPUNT_* variables, read on every run (cheap)."""
    return Settings.load()


@st.cache_resource(show_spinner=False, max_entries=8)
def _assistant(key: str, _settings: Settings) -> Assistant:
    assistant = make_assistant(_settings)
    assistant.searcher.chunks()  # loads the index now: a missing index fails here, not mid-question
    return assistant


def assistant(config: Settings) -> Assistant:
    """The shared Assistant for these settings; keyed by the settings so test dirs never collide."""
    return _assistant(repr(config), config)


@st.cache_resource(show_spinner=False, max_entries=8)
def _feedback_store(path: str) -> FeedbackStore:
    from pathlib import Path

    return FeedbackStore(Path(path))


def feedback_store(config: Settings) -> FeedbackStore:
    return _feedback_store(str(config.feedback_db))


def admin_password(config: Settings) -> str:
    """The configured admin password: settings first, then `admin_password` in Streamlit secrets."""
    if config.admin_password:
        return config.admin_password
    try:
        # load_if_toml_exists avoids Streamlit's "no secrets file" error when there is none.
        if st.secrets.load_if_toml_exists():
            return str(st.secrets.get("admin_password", "") or "")
    except Exception:  # a malformed secrets.toml must not lock the whole app
        return ""
    return ""


def stop_on_error(exc: VraagpuntError) -> None:
    """Show an actionable error in Dutch and stop the page."""
    st.error(str(exc), icon="⚠️")
    st.stop()
