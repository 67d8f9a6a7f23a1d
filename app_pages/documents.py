"""The documents page: what is indexed, and (with the admin password) adding and removing documents."""

from __future__ import annotations

import math
import time
import uuid
from collections import defaultdict
from datetime import datetime

import streamlit as st

from app_pages import resources
from app_pages.admin import password_matches, session_expired
from app_pages.render import block_html, text_html
from ingest.intake import SUPPORTED, max_bytes, save_upload
from ingest.pipeline import IngestReport, ingest
from vraagpunt.errors import IngestError, VraagpuntError, storage_error
from vraagpunt.index import open_index
from vraagpunt.settings import Settings

UPLOAD_TYPES = sorted(s.lstrip(".") for s in SUPPORTED)
PAGES = "Pagina's"
ADMIN_SINCE = "admin_active"  # session state: when this admin session was last active (monotonic seconds)


def _when(timestamp: float | None) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%d-%m-%Y %H:%M") if timestamp else ""


def document_rows(config: Settings, chunks) -> list[dict]:
    """One row per indexed source: title, kind, pages, passages and when the file last changed."""
    by_source: dict[str, list] = defaultdict(list)
    for chunk in chunks:
        by_source[chunk.source].append(chunk)
    rows = []
    for source, items in sorted(by_source.items(), key=lambda kv: (kv[1][0].title or kv[0]).lower()):
        path = config.corpus_dir / source
        pages = max((c.page_end or c.page_start for c in items), default=0)
        rows.append(
            {
                "Titel": items[0].title or source,
                "Soort": resources.KIND_LABELS.get(items[0].kind, items[0].kind),
                "Bestand": source,
                "Pagina's": pages or None,
                "Passages": len(items),
                "Bestand gewijzigd": _when(path.stat().st_mtime) if path.is_file() else "ontbreekt",
            }
        )
    return rows


def document_list_html(rows: list[dict]) -> str:
    """The documents as blocks of text, for a phone: title, then kind, size, file and date."""
    items = []
    for row in rows:
        pages = f"{row[PAGES]} pagina's" if row[PAGES] else ""
        facts = " · ".join(x for x in (row["Soort"], pages, f"{row['Passages']} passages") if x)
        changed = f"gewijzigd {row['Bestand gewijzigd']}" if row["Bestand gewijzigd"] != "ontbreekt" else "bestand ontbreekt"
        items.append(
            '<li class="vp-doc">'
            + block_html(text_html(row["Titel"]), "vp-card-title")
            + block_html(text_html(facts), "vp-caption")
            + block_html(text_html(f"{row['Bestand']}, {changed}"), "vp-caption")
            + "</li>"
        )
    return f'<ul class="vp-doc-list" aria-label="Documenten">{"".join(items)}</ul>'


def _document_table(rows: list[dict]) -> None:
    """Readable without scrolling sideways: a table whose titles wrap on a wide screen, a list on a phone.

    The stylesheet shows one of the two by the width of the screen.
    """
    with st.container(key="vp-docs-table"):
        st.dataframe(
            rows,
            hide_index=True,
            width="stretch",
            row_height=68,
            placeholder="–",  # a web page or Markdown file has no pages; not "None"  # above 4rem Streamlit wraps text: a long title takes two lines instead of the width
            column_order=("Titel", "Soort", "Pagina's", "Passages", "Bestand", "Bestand gewijzigd"),
            column_config={
                "Titel": st.column_config.TextColumn(width=300),
                "Soort": st.column_config.TextColumn(width=110),
                "Pagina's": st.column_config.NumberColumn(format="%d", width=70),
                "Passages": st.column_config.NumberColumn(width=70),
                "Bestand": st.column_config.TextColumn(width=170),
                "Bestand gewijzigd": st.column_config.TextColumn("Gewijzigd", width=90),
            },
        )
    with st.container(key="vp-docs-list"):
        st.html(document_list_html(rows))


def _reindex(config: Settings, label: str) -> IngestReport:
    """Bring the index in line with the corpus folder, with a progress bar; the assistant reloads by itself.

    An ingest from the CLI may hold the writer's lock: this one then waits for it (VRAAGPUNT_INGEST_WAIT).
    """
    assistant = resources.assistant(config)
    bar = st.progress(0.0, text=f"{label}…")

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{label}: {done} van {total} passages ingebed")

    def waiting(message: str) -> None:
        bar.progress(0.0, text=message)

    report = ingest(config, assistant.searcher.embedder, open_index(config), progress=progress, on_wait=waiting)
    bar.progress(1.0, text="Klaar")
    return report


def _summary(report: IngestReport, action: str) -> dict:
    text = (
        f"{action} De index bevat nu {report.documents} {'document' if report.documents == 1 else 'documenten'} "
        f"en {report.chunks} {'passage' if report.chunks == 1 else 'passages'} "
        f"({report.new} nieuw, {report.removed} verwijderd, {report.seconds:.1f} s)."
    )
    return {"text": text, "skipped": [f"{s.path}: {s.reason}" for s in report.skipped]}


def _upload(config: Settings, files) -> None:
    """Save each acceptable file in the corpus folder (type by content, size, safe name), then reindex."""
    saved, refused = [], []
    for file in files:
        if file.size > max_bytes(config.max_file_mb):  # refused before its bytes are even copied
            size = file.size / 1024 / 1024
            refused.append(f"{file.name}: te groot ({size:.1f} MB; maximum {config.max_file_mb:g} MB)")
            continue
        try:
            path = save_upload(config.corpus_dir, file.name, file.getvalue(), config.max_file_mb)
        except IngestError as exc:
            refused.append(f"{file.name}: {exc}")
            continue
        saved.append(path.name if path.name == file.name else f"{path.name} (was {file.name})")
    refused = [f"Niet toegevoegd: {line}" for line in refused]
    if not saved:
        for line in refused:
            st.error(line)
        return
    try:
        report = _reindex(config, "Indexeren")
    except VraagpuntError as exc:
        for line in refused:
            st.error(line)
        st.error(f"{exc} Het bestand staat wel in de corpusmap; het komt in de index bij de volgende indexering.")
        return
    flash = _summary(report, f"Toegevoegd: {', '.join(saved)}.")
    st.session_state["documents_flash"] = {**flash, "refused": refused}
    st.session_state["upload_key"] = st.session_state.get("upload_key", 0) + 1
    st.rerun()


def _remove(config: Settings, source: str) -> None:
    path = (config.corpus_dir / source).resolve()
    if config.corpus_dir.resolve() not in path.parents:
        st.error("Alleen documenten in de corpusmap kunnen hier verwijderd worden.")
        return
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise storage_error(exc, config.corpus_dir, source) or exc
    report = _reindex(config, "Index bijwerken")
    st.session_state["documents_flash"] = _summary(report, f"Verwijderd: {source}.")
    st.rerun()


def _admin(config: Settings, sources: list[str]) -> None:
    st.header("Beheer")
    with st.container(border=True):
        st.markdown("**Document toevoegen**")
        files = st.file_uploader(
            "PDF, Markdown, tekst of HTML",
            type=UPLOAD_TYPES,
            accept_multiple_files=True,
            max_upload_size=max(1, math.ceil(config.max_file_mb)),
            key=f"upload-{st.session_state.get('upload_key', 0)}",
        )
        st.caption(f"Hoogstens {config.max_file_mb:g} MB per bestand. Een bestand met dezelfde naam vervangt het "
                   "bestaande document.")
        if st.button("Toevoegen en indexeren", type="primary", disabled=not files, icon=":material/upload:"):
            _upload(config, files)
    with st.container(border=True):
        st.markdown("**Document verwijderen**")
        source = st.selectbox("Document", sources, index=None, placeholder="Kies een document", key="remove_source")
        if st.button("Verwijderen en index bijwerken", disabled=source is None, icon=":material/delete:"):
            _remove(config, source)
    with st.container(border=True):
        st.markdown("**Feedback**")
        store = resources.feedback_store(config)
        st.caption("Alle duimpjes en opmerkingen, met vraag, antwoord en bronnen, als CSV voor een rekenblad.")
        st.download_button(
            "Feedback exporteren (CSV)",
            data=store.export_csv,
            file_name=f"vraagpunt-feedback-{datetime.now():%Y%m%d}.csv",
            mime="text/csv",
            on_click="ignore",
            icon=":material/download:",
        )
        if store.waiting:
            st.warning(f"{store.waiting} beoordeling(en) wachten nog om opgeslagen te worden: {store.problem}")
    if st.button("Afmelden", type="tertiary"):
        st.session_state.pop(ADMIN_SINCE, None)
        st.rerun()


def _login_keys() -> tuple[str, str]:
    """Whom wrong tries are counted against: this session, and the client's address where Streamlit knows it
    (behind a proxy, or on this machine, every client shares one address and so one count)."""
    session = st.session_state.setdefault("login_session", uuid.uuid4().hex)
    address = st.context.ip_address  # None for this machine (and not a string under AppTest)
    return f"sessie:{session}", f"adres:{address if isinstance(address, str) and address else 'lokaal'}"


def _unlocked(config: Settings, password: str) -> bool:
    """Whether this session may manage documents; shows the login form when not."""
    since = st.session_state.get(ADMIN_SINCE)
    if since is not None and session_expired(since, config.admin_session_minutes):
        st.session_state.pop(ADMIN_SINCE)
        st.warning(f"Je beheersessie is verlopen na {config.admin_session_minutes:g} minuten zonder activiteit. "
                   "Meld je opnieuw aan.", icon=":material/timer_off:")
    elif since is not None:
        st.session_state[ADMIN_SINCE] = time.monotonic()  # activity keeps the session alive
        return True
    with st.form("login", border=False):
        given = st.text_input("Beheerderswachtwoord", type="password")
        submitted = st.form_submit_button("Aanmelden")
    if submitted:
        throttle = resources.login_throttle(config)
        keys = _login_keys()
        wait = throttle.wait(*keys)
        if wait > 0:  # not even checked: a guess during the wait would make the wait pointless
            st.error(f"Te veel onjuiste pogingen. Probeer het opnieuw over {math.ceil(wait)} s.")
        elif password_matches(given, password):
            throttle.succeeded(keys[0])
            st.session_state[ADMIN_SINCE] = time.monotonic()
            st.rerun()
        else:
            wait = throttle.failed(*keys)
            st.error(f"Onjuist wachtwoord. Je kunt het opnieuw proberen over {math.ceil(wait)} s.")
    return False


def main() -> None:
    st.set_page_config(layout="wide")
    config = resources.settings()
    try:
        assistant = resources.assistant(config)
        chunks = assistant.searcher.chunks()
    except VraagpuntError as exc:
        resources.stop_on_error(exc)

    st.title("Documenten")
    st.caption("De documenten waaruit Vraagpunt antwoordt.")
    flash = st.session_state.pop("documents_flash", None)
    if flash:
        st.success(flash["text"], icon=":material/check_circle:")
        for line in flash.get("refused", []):
            st.error(line)
        for line in flash["skipped"]:
            st.warning(f"Overgeslagen: {line}")

    rows = document_rows(config, chunks)
    columns = st.columns(3)
    columns[0].metric("Documenten", len(rows))
    columns[1].metric("Passages", len(chunks))
    state = open_index(config).state()
    columns[2].metric("Index bijgewerkt", datetime.fromtimestamp(state.updated).strftime("%d-%m %H:%M") if state else "–")
    _document_table(rows)

    password = resources.admin_password(config)
    if not password:
        st.info(
            "Deze pagina is alleen-lezen: er is geen beheerderswachtwoord ingesteld. Zet `VRAAGPUNT_ADMIN_PASSWORD` "
            "(of `admin_password` in `.streamlit/secrets.toml`) om documenten toe te voegen of te verwijderen.",
            icon=":material/lock:",
        )
        return
    if _unlocked(config, password):
        try:
            _admin(config, [row["Bestand"] for row in rows])
        except VraagpuntError as exc:
            resources.stop_on_error(exc)


main()
