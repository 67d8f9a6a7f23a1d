"""A small generated corpus for load, fault and concurrency tests: a few short school documents with
facts a question can check, and the questions (with follow-ups) that teachers ask about them."""

from __future__ import annotations

import threading
import time
from pathlib import Path

DOCUMENTS = {
    "schoolfruit.md": """# Schoolfruit op de proefscholen

Elke leerling van de proefscholen krijgt op woensdag gratis een stuk schoolfruit.

Het schoolfruitproject loopt tot 30 juni 2027. De subsidie bedraagt 12.000 euro per school.

Het fruit wordt geleverd door een lokale teler uit Haspengouw.
""",
    "zwemles.md": """# Zwemles in het derde leerjaar

De zwemles voor het derde leerjaar is elke vrijdag om 10 uur in het stedelijk zwembad.

Een zwembeurt kost 2 euro per leerling. Leerlingen die niet kunnen zwemmen, krijgen een apart lesuur met een redder.

De bus naar het zwembad vertrekt om 9.30 uur aan de hoofdingang.
""",
    "bibliotheek.md": """# De schoolbibliotheek

De schoolbibliotheek is open op maandag en donderdag van 12 tot 13 uur.

Leerlingen mogen drie boeken tegelijk lenen, voor een periode van twee weken.

Wie een boek verliest, betaalt een vergoeding van 15 euro aan het secretariaat.
""",
    "fietsen.md": """# Veelgestelde vragen over fietsen naar school

## Waar stal ik mijn fiets?

Fietsen staan in de overdekte fietsenstalling achter de sporthal.

## Moet mijn kind een fietshelm dragen?

Ja, op weg naar een uitstap met de klas is een fietshelm verplicht voor alle leerlingen.

## Wat als mijn fiets gestolen wordt?

Meld een diefstal bij het secretariaat en bij de lokale politie.
""",
    "oudercontact.html": """<!doctype html><html><head><title>Oudercontact</title></head><body>
<nav>Menu Over ons Contact</nav>
<main><h1>Oudercontact voorjaar</h1>
<p>Het oudercontact vindt plaats op 14 maart 2027 tussen 16 en 20 uur.</p>
<p>Ouders maken een afspraak via het digitale platform van de school, uiterlijk een week op voorhand.</p>
<p>Een gesprek met de klasleraar duurt tien minuten.</p>
</main><footer>Contact</footer></body></html>
""",
}

# (question, follow-up): each follow-up leans on its question.
CONVERSATIONS = [
    ("Wanneer krijgen leerlingen schoolfruit?", "En tot wanneer loopt dat project?"),
    ("Hoeveel kost een zwembeurt?", "Hoe laat vertrekt de bus?"),
    ("Wanneer is de schoolbibliotheek open?", "Hoeveel boeken mag ik lenen?"),
    ("Waar kan ik mijn fiets stallen?", "Is een fietshelm verplicht?"),
    ("Wanneer is het oudercontact?", "Hoe lang duurt een gesprek?"),
]
OUT_OF_CORPUS = "Wat is het recept voor lasagne bolognese?"


MANIFEST = """[documents."fietsen.md"]
kind = "faq"

[documents."oudercontact.html"]
kind = "webpage"
"""


def write_corpus(folder: Path, names: tuple[str, ...] | None = None) -> Path:
    """Write the documents (or some of them) and their manifest into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    for name, text in DOCUMENTS.items():
        if names is None or name in names:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


# A change staff make while the app serves: a fact changes, and a new document arrives.
FRUIT_QUESTION = "Wanneer krijgen leerlingen schoolfruit?"
OLD_DAY, NEW_DAY = "woensdag", "donderdag"
NEW_DOCUMENT = "toneel.md"
NEW_QUESTION = "Wanneer is de toneelvoorstelling van de zesde klas?"
NEW_FACT = "21 mei 2027"


def change_corpus(folder: Path) -> None:
    """Move the fruit day and add a document long enough that its ingest takes a few seconds."""
    fruit = folder / "schoolfruit.md"
    fruit.write_text(fruit.read_text(encoding="utf-8").replace(OLD_DAY, NEW_DAY), encoding="utf-8")
    scenes = "\n\n".join(
        f"Scène {i} speelt zich af in {place}; de leerlingen oefenen haar op {day} onder leiding van {who}."
        for i, (place, day, who) in enumerate(
            [(p, d, w) for p in ("de turnzaal", "het park", "de refter", "de speelplaats", "het station",
                                 "de bibliotheek", "een boerderij", "het kasteel")
             for d in ("maandag", "dinsdag", "vrijdag") for w in ("juf Anja", "meester Tom")][:24],
            start=1,
        )
    )
    (folder / NEW_DOCUMENT).write_text(
        "# Toneel in de zesde klas\n\nDe toneelvoorstelling van de zesde klas is op 21 mei 2027 in de turnzaal."
        f"\n\n## Het draaiboek\n\n{scenes}\n",
        encoding="utf-8",
    )


def restore_corpus(folder: Path) -> None:
    """Undo `change_corpus`."""
    fruit = folder / "schoolfruit.md"
    fruit.write_text(fruit.read_text(encoding="utf-8").replace(NEW_DAY, OLD_DAY), encoding="utf-8")
    (folder / NEW_DOCUMENT).unlink(missing_ok=True)


class Askers:
    """Threads that keep asking the shared assistant, as app sessions do, and keep every answer."""

    def __init__(self, assistant, questions, threads: int = 3) -> None:
        self.answers: list[tuple[float, str, object]] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._ask, args=(assistant, questions[i:] + questions[:i]))  # each its own order
            for i in range(threads)
        ]

    def _ask(self, assistant, questions) -> None:
        i = 0
        while not self._stop.is_set():
            question = questions[i % len(questions)]
            i += 1
            try:
                self.answers.append((time.monotonic(), question, assistant.ask(question)))
            except BaseException as exc:  # noqa: BLE001 - every failure counts
                self.errors.append(exc)

    def __enter__(self) -> Askers:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()
