"""The documents page: what is indexed, and (with the admin password) adding and removing documents."""

from __future__ import annotations

import hmac
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import streamlit as st

from app_pages import resources
from app_pages.render import block_html, text_html
from ingest.loaders import SUPPORTED
from ingest.pipeline import IngestReport, ingest
from vraagpunt.errors import VraagpuntError
from vraagpunt.index import open_index
from vraagpunt.settings import Settings

UPLOAD_TYPES = sorted(s.lstrip(".") for s in SUPPORTED)
PAGES = "Pagina's"


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
    """Bring the index in line with the corpus folder, with a progress bar; the assistant reloads by itself."""
    assistant = resources.assistant(config)
    bar = st.progress(0.0, text=f"{label}…")

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{label}: {done} van {total} passages ingebed")

    report = ingest(config, assistant.searcher.embedder, open_index(config), progress=progress)
    bar.progress(1.0, text="Klaar")
    return report


def _summary(report: IngestReport, action: str) -> dict:
    text = (
        f"{action} De index bevat nu {report.documents} {'document' if report.documents == 1 else 'documenten'} "
        f"en {report.chunks} {'passage' if report.chunks == 1 else 'passages'} "
        f"({report.new} nieuw, {report.removed} verwijderd, {report.seconds:.1f} s)."
    )
    return {"text": text, "skipped": [f"{s.path}: {s.reason}" for s in report.skipped]}


def _safe_name(name: str) -> str | None:
    """A plain file name inside the corpus folder, or None if it is not a supported document."""
    clean = Path(name.replace("\\", "/")).name.strip()
    if not clean or clean.startswith(".") or Path(clean).suffix.lower() not in SUPPORTED:
        return None
    return clean


def _upload(config: Settings, files) -> None:
    saved, refused = [], []
    config.corpus_dir.mkdir(parents=True, exist_ok=True)
    for file in files:
        name = _safe_name(file.name)
        if name is None:
            refused.append(file.name)
            continue
        (config.corpus_dir / name).write_bytes(file.getvalue())
        saved.append(name)
    if refused:
        st.error(f"Niet toegevoegd (alleen PDF, Markdown, tekst of HTML): {', '.join(refused)}")
    if not saved:
        return
    report = _reindex(config, "Indexeren")
    st.session_state["documents_flash"] = _summary(report, f"Toegevoegd: {', '.join(saved)}.")
    st.session_state["upload_key"] = st.session_state.get("upload_key", 0) + 1
    st.rerun()


def _remove(config: Settings, source: str) -> None:
    path = (config.corpus_dir / source).resolve()
    if config.corpus_dir.resolve() not in path.parents:
        st.error("Alleen documenten in de corpusmap kunnen hier verwijderd worden.")
        return
    path.unlink(missing_ok=True)
    report = _reindex(config, "Index bijwerken")
    st.session_state["documents_flash"] = _summary(report, f"Verwijderd: {source}.")
    st.rerun()


def _admin(config: Settings, sources: list[str]) -> None:
    st.subheader("Beheer")
    with st.container(border=True):
        st.markdown("**Document toevoegen**")
        files = st.file_uploader(
            "PDF, Markdown, tekst of HTML",
            type=UPLOAD_TYPES,
            accept_multiple_files=True,
            key=f"upload-{st.session_state.get('upload_key', 0)}",
        )
        st.caption("Een bestand met dezelfde naam vervangt het bestaande document.")
        if st.button("Toevoegen en indexeren", type="primary", disabled=not files, icon=":material/upload:"):
            _upload(config, files)
    with st.container(border=True):
        st.markdown("**Document verwijderen**")
        source = st.selectbox("Document", sources, index=None, placeholder="Kies een document", key="remove_source")
        if st.button("Verwijderen en index bijwerken", disabled=source is None, icon=":material/delete:"):
            _remove(config, source)
    if st.button("Afmelden", type="tertiary"):
        st.session_state.pop("admin_ok", None)
        st.rerun()


def _unlocked(password: str) -> bool:
    if st.session_state.get("admin_ok"):
        return True
    with st.form("login", border=False):
        given = st.text_input("Beheerderswachtwoord", type="password")
        submitted = st.form_submit_button("Aanmelden")
    if submitted:
        if hmac.compare_digest(given.encode(), password.encode()):
            st.session_state["admin_ok"] = True
            st.rerun()
        st.error("Onjuist wachtwoord. Probeer het opnieuw.")
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
    if _unlocked(password):
        try:
            _admin(config, [row["Bestand"] for row in rows])
        except VraagpuntError as exc:
            resources.stop_on_error(exc)


main()
