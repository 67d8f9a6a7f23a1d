"""What every page shares: settings, the one Assistant per configuration, the feedback store."""

from __future__ import annotations

import streamlit as st

from app_pages.admin import LoginThrottle
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


class _TellingFeedback:
    """The shared feedback store, telling the user when their judgement waits for the disk."""

    def __init__(self, store: FeedbackStore) -> None:
        self._store = store

    def add(self, *args, **kwargs) -> int:
        row_id = self._store.add(*args, **kwargs)
        self._tell()
        return row_id

    def update(self, *args, **kwargs) -> None:
        self._store.update(*args, **kwargs)
        self._tell()

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def _tell(self) -> None:
        if self._store.problem:
            st.toast(self._store.problem, icon="⚠️")


def feedback_store(config: Settings) -> FeedbackStore:
    """The feedback store for these settings, one per database file for all sessions."""
    return _TellingFeedback(_feedback_store(str(config.feedback_db)))  # type: ignore[return-value]


@st.cache_resource(show_spinner=False, max_entries=8)
def _login_throttle(data_dir: str, _delay: float) -> LoginThrottle:
    return LoginThrottle(_delay)


def login_throttle(config: Settings) -> LoginThrottle:
    """Wrong admin passwords, counted across all sessions of this app (one count per data folder)."""
    return _login_throttle(str(config.data_dir), config.admin_login_delay)


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
