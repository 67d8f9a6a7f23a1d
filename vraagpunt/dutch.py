"""Dutch language knowledge in one place: the closed word classes and patterns every stage reads.

Closed classes (stop words, question words, pronouns, conjunctions, months, number words, time units,
caption words, abbreviations) are small and stable, so they are listed here once. Open-class
knowledge comes from the corpus itself (which words are rare there) and from kept libraries
(Snowball's stemmer in `retrieval.lexical`).
"""

from __future__ import annotations

import re
from functools import lru_cache

# Snowball's Dutch stop word list, plus question words and modal verbs that carry no topic.
STOPWORDS = frozenset(
    """
    de en van ik te dat die in een hij het niet zijn is was op aan met als voor had er maar om hem dan zou of
    wat mijn men dit zo door over ze zich bij ook tot je mij uit der daar haar naar heb hoe heeft hebben deze u
    want nog zal me zij nu ge geen omdat iets worden toch al waren veel meer doen toen moet ben zonder kan hun
    dus alles onder ja eens hier wie werd altijd doch wordt wezen kunnen ons zelf tegen na reeds wil kon niets
    uw iemand geweest andere welke waar wanneer waarom hoeveel welk jullie we wij mag mogen dat's graag
    da wa
    """.split()
)  # "da" and "wa": how Flemish users type "dat" and "wat"

MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
    "november", "december",
)
SEASONS = ("voorjaar", "najaar", "zomer", "winter", "lente", "herfst")
WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag", "weekend")
NUMBER_WORDS = (
    "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien", "elf", "twaalf", "twintig",
    "dertig", "veertig", "vijftig", "honderd", "duizend", "miljoen", "miljard", "helft", "derde", "kwart",
    "driekwart", "dubbel",
)
TIME_UNITS = (
    "jaar", "jaren", "maand", "maanden", "week", "weken", "dag", "dagen", "uur", "uren", "minuut", "minuten",
    "semester", "trimester", "schooljaar", "schooljaren",
)
# What a figure caption or a source line starts with: "Figuur 4: …", "Bron: …".
CAPTION_WORDS = ("bron", "figuur", "fig.", "tabel", "grafiek", "foto", "afbeelding", "bijlage", "noot")
# Abbreviations that end in a full stop without ending the sentence.
ABBREVIATIONS = ("bv", "bijv", "o.a", "m.b.t", "i.p.v", "nl", "vb", "ca", "nr", "art", "dr", "prof", "mr", "e.d",
                 "enz", "t.e.m", "p")
# A hyphen before a line break that one of these follows leaves the word open: "vracht- en verzendkosten".
SUSPENDED_COMPOUND_JOINERS = ("en", "of", "tot", "en/of", "noch")
# The sounds that join the parts of a compound: onderwijs-s-…, boek-en-kast.
LINKING_SOUNDS = ("s", "en", "e")
# Verbs that open a yes/no question in an FAQ ("Komt het volgende in aanmerking: …").
QUESTION_OPENING_VERBS = ("Komt", "Komen", "Kan", "Kunnen", "Mag", "Mogen", "Moet", "Moeten", "Is", "Zijn", "Valt",
                          "Vallen", "Geldt", "Telt", "Tellen")

# A turn that opens with one of these continues the conversation ("en bij een begeleidingsproject?").
CONTINUATIONS = ("en", "maar", "ook", "of", "dus", "want", "anders")
# Question words that take a noun: "welke leeftijd", "hoeveel man".
QUESTION_DETERMINERS = frozenset({"welke", "welk", "hoeveel", "hoevel", "wat", "wiens", "hoe"})
# Phrases that announce a new subject ("ander vraagje: …", "maar iets anders: …").
TOPIC_CHANGES = re.compile(r"\b(?:iets anders|ander vraagje|andere vraag|nog een vraag|los daarvan|trouwens)\b"
                           r"|\book nog\s*:", re.IGNORECASE)
# Words that point back at something named earlier. Pronominal adverbs ("daarvoor", "ervan") and third
# person pronouns always do; demonstratives ("die periode", "dat plan") do unless they start a relative
# clause or a "dat"-clause (see retrieval.query).
PERSONAL_BACK_REFERENCES = frozenset({"hij", "hem", "dezelfde", "hetzelfde", "ervan", "erbij", "ermee", "ervoor",
                                      "erop", "eraan", "erin", "erover", "eruit", "erna", "ertoe", "erdoor",
                                      "ertegen", "erom", "erheen"})
PRONOMINAL_PREFIXES = ("daar", "hier")  # daar, daarvoor, daarmee, hierover, …
DEMONSTRATIVES = frozenset({"die", "dat", "da", "deze", "dit", "het"})
# Forms of auxiliary and copular verbs that the stop word list leaves out.
AUXILIARIES = frozenset({"werden", "zullen", "zult", "zouden", "konden", "moesten", "mochten", "wilden", "hadden",
                         "heb", "hebt", "gaat", "gaan", "ging", "gingen", "komt", "komen", "kwam", "kwamen",
                         "blijft", "blijven", "bleef", "staat", "staan", "stond", "gebeurt", "gebeurde"})
# "het eerste", "de laatste", "het hoogste" with no noun after them stand for something named before.
ORDINALS = frozenset({"eerste", "tweede", "derde", "vierde", "laatste", "vorige", "volgende", "andere"})
# "dan" after these compares ("meer dan"); elsewhere it means "in that case" and points back.
COMPARATIVES = frozenset({"meer", "minder", "anders", "ander", "eerder", "later", "groter", "kleiner", "hoger",
                          "lager", "langer", "korter", "beter", "liever", "vroeger", "vaker", "sneller"})
# Words after which "dat" opens a clause ("klopt het dat …", "is het waar dat …") instead of pointing back.
CLAUSE_OPENERS = frozenset({"het", "waar", "zeker", "mogelijk", "nodig", "verplicht", "zo", "denk", "weet",
                            "klopt", "zeggen", "zegt", "gezegd", "lees", "las", "gelezen", "hoor",
                            "hoorde", "gehoord", "blijkt", "vinden", "vind", "vindt"})

# Question words that name what kind of thing an answer is (soft cues; see retrieval.query.asked_kinds).
_KIND_CUES: dict[str, str] = {
    "money": r"wat kost|wat kosten|hoeveel kost|hoeveel kosten|kostprijs|prijs|bedrag|budget|hoeveel geld|hoeveel euro"
             r"|hoeveel subsidie|hoeveel financiering|hoeveel betaal|wat betaal",
    "duration": r"hoe ?lang|hoelang|looptijd|duurtijd|hoeveel tijd",
    "date": r"wanneer|welke datum|op welke dag|welk jaar|in welk jaar|tot wanneer|sinds wanneer|vanaf wanneer"
            r"|deadline|uiterste datum|tegen wanneer",
    "amount": r"hoe ?veel|hoeveel|hoevel|aantal|percentage|procent|hoe vaak|hoe dikwijls|hoe groot|hoe hoog"
              r"|maximaal|minimaal|maximum|minimum|minstens",
    "person": r"wie|door wie|van wie|met wie|welke organisatie|welke partner|welke instelling|welke persoon",
}
ASKED_KIND_CUES = {kind: re.compile(rf"\b(?:{cue})\b", re.IGNORECASE) for kind, cue in _KIND_CUES.items()}

_MONTH = "|".join(MONTHS)
_NUMBER = "|".join(NUMBER_WORDS)
_UNIT = "|".join(TIME_UNITS)
# What an answer of each kind contains.
KIND_EVIDENCE = {
    "money": re.compile(r"€|\beuro\b|\bgratis\b|kosteloos|betalend", re.IGNORECASE),
    "duration": re.compile(rf"\b(?:\d+|één|een|{_NUMBER})\s+(?:{_UNIT})\b", re.IGNORECASE),
    "date": re.compile(rf"\b(?:19|20)\d\d\b|\b\d{{1,2}}[/-]\d{{1,2}}\b|\b(?:{_MONTH}|{'|'.join(SEASONS + WEEKDAYS)})\b",
                       re.IGNORECASE),
    "amount": re.compile(rf"(?<!\()\d(?!\))|\b(?:{_NUMBER})\b|\bgeen (?:limiet|maximum|minimum)\b", re.IGNORECASE),
    # A name: a capitalised word that does not open the sentence, or an acronym.
    "person": re.compile(r"(?<=[a-zà-ÿ,;:] )[A-Z][\w&@.-]+|\b[A-Z]{2,}\b"),
}

CAPTION = re.compile(rf"^\W*(?:{'|'.join(re.escape(w) for w in CAPTION_WORDS)})(?:\s+\d+(?:\.\d+)*)?\s*[:.]",
                     re.IGNORECASE)
# A short line that starts like a caption is no heading, even without its colon ("Figuur 3", "Bijlage 2").
CAPTION_START = re.compile(rf"^(?:{'|'.join(re.escape(w) for w in CAPTION_WORDS)})\b", re.IGNORECASE)
ABBREVIATION_END = re.compile(rf"\b(?:{'|'.join(re.escape(a) for a in ABBREVIATIONS)})\.$", re.IGNORECASE)


@lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """The dictionary form of a Dutch word (simplemma): "scholen" -> "school", "draait" -> "draaien"."""
    import simplemma

    return simplemma.lemmatize(word.lower(), lang="nl")


def looks_like_verb(word: str) -> bool:
    """A verb form: its lemma is an infinitive ("krijgen", "voor_stellen"). Nouns ending in -en ("examen")
    are rare enough among question words to accept the mistake."""
    base = lemma(word)
    return base.endswith("en") or "_" in base
