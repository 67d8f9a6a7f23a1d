"""The default answerer: quote the sentences that answer the question, each with its source number."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.followup import focus_of
from retrieval.lexical import DUTCH_STOPWORDS, DutchAnalyzer
from retrieval.search import IndexSnapshot, Searcher
from vraagpunt.settings import Settings
from vraagpunt.types import Answer, Citation, Hit

NOT_FOUND = "Dat vind ik niet in de documenten van Leerpunt."
_ASKS_QUANTITY = re.compile(
    r"\b(hoeveel|hoe ?veel|hoe vaak|hoe dikwijls|hoe lang|hoe groot|hoe hoog|wanneer|welke datum|welk jaar|welk bedrag|welk percentage|"
    r"maximum|maximaal|minimum|minimaal|minstens|hoogste|laagste|budget|bedrag|percentage|deadline)\b",
    re.IGNORECASE,
)
# A sentence added for one part of a question, or put in place of sentences that miss what was asked,
# must score at least this share of the best sentence (for parts, 0.3 to 0.7 measured the same; in
# place of the chosen sentences, 0.7 lost the gain that 0.5 gave on the odd ids).
_PART_MIN_SCORE = 0.5
_LINK = re.compile(r"https?://\S+|www\.\S+|\b[\w-]+(\.[\w-]+)*\.(be|nl|eu|com|org|net)\b/?\S*")
# "Figuur 4: Het TPACK model", "Bron: IDEA Consult", "Tabel 2: …": what a figure shows or where it
# comes from, not a statement that answers anything.
_CAPTION = re.compile(r"^\W*(bron|figuur|fig\.|tabel|grafiek|foto|afbeelding)(\s+\d+(\.\d+)*)?\s*[:.]", re.IGNORECASE)
_LETTER_WORD = re.compile(r"[^\W\d_]{2,}")  # a word of letters, no figure
_FIGURE = re.compile(r"(?<![\w.,])\d[\d.,]*%?")
_ANNOUNCES_LIST = re.compile(
    r":$|\b(twee|drie|vier|vijf|zes|zeven|acht|negen|tien|[2-9]|1\d)\s+(\w+\s+)?"
    r"(doelen|opdrachten|taken|fasen|stappen|pijlers|elementen|criteria|voorwaarden|rondes|delen|onderdelen|thema's|types|soorten)\b",
    re.IGNORECASE,
)
_QUANTITY = re.compile(
    r"(?<!\()\d(?!\))|\b[eé]én\s+(jaar|maand|week|dag|uur|semester|schooljaar|keer|per)\b|\b(twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|twintig|honderd|duizend|miljoen|"
    r"januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december)\b",
    re.IGNORECASE,
)


@dataclass
class ScoredSentence:
    hit: Hit
    position: int  # index of the sentence inside its chunk
    text: str
    lexical: float = 0.0
    dense: float = 0.0
    score: float = 0.0


class ExtractiveAnswerer:
    """Selects 1-4 sentences from the top hits, keeping their wording, and cites them as [n].

    Sentences are scored with the vectors stored at ingest (no embedding at answer time), the
    index's own stemmed terms weighted by IDF, and the structure: the rank of their passage and, for
    an FAQ, how well the user's question matches the FAQ question.
    """

    mode = "extractive"

    def __init__(self, settings: Settings, searcher: Searcher) -> None:
        self._settings = settings
        self._searcher = searcher

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        answer = self.answer(question, hits)
        for piece in re.findall(r"\S+\s*", answer.text):
            yield piece
        yield answer

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        snap = self._searcher.snapshot()  # once per answer: each call asks the index which generation is live
        sentences = self.score_sentences(question, hits, snap)
        if not sentences or self.confidence(sentences) < self._settings.refusal_threshold:
            return refusal(question, hits)
        chosen = self._select(sentences, question, snap.analyzer)
        texts = [c.text for c in chosen]
        if not fills_slot(question, texts, snap.analyzer):
            # The best sentences are about the topic but do not say what was asked (an amount, a date,
            # a duration …). A close runner-up that does say it answers instead ("De subsidie bedroeg
            # maximaal 400.000€" after the sentence that introduces the subsidy); without one the
            # passages do not say it, and the answer is a refusal.
            alt = _runner_up(question, sentences, chosen, snap.analyzer)
            if alt is None:
                return refusal(question, hits)
            chosen, texts = [alt], [alt.text]
        if not in_scope(question, chosen, snap):
            # "Hoeveel overhead … bij een begeleidingsproject?" answered from the valorisation call's rules.
            return refusal(question, hits)
        missing = unfilled_parts(question, texts, snap.analyzer)
        for part in list(missing):
            # A question in parts, answered in part: the best candidate sentence that holds what this
            # part asks for, if it is a reasonable match for the whole question.
            extra = _runner_up(part, sentences, chosen, snap.analyzer)
            if extra is not None:
                chosen.append(extra)
                missing.remove(part)
        answer = compose(question, _in_reading_order(chosen), mode=self.mode)
        if missing:  # still open: say which part, without claiming the documents never say it
            which = "dit deel" if len(missing) == 1 else "deze delen"
            answer.notice = (f"Op {which} van je vraag staat het antwoord niet in de geciteerde passages: "
                             + "; ".join(f"“{m}”" for m in missing) + ". Stel die vraag apart voor een gericht antwoord.")
        return answer

    def confidence(self, ranked: Sequence[ScoredSentence]) -> float:
        """The highest similarity of any candidate sentence to the question.

        Of the signals measured on the evaluation set (sentence and passage similarity, IDF-weighted
        term coverage, FAQ-question similarity), this one separated unanswerable questions best.
        """
        return max(c.dense for c in ranked)

    def score_sentences(self, question: str, hits: Sequence[Hit], snap: IndexSnapshot | None = None) -> list[ScoredSentence]:
        """Every candidate sentence with lexical, dense and structural evidence combined in `score`.

        For a rewritten follow-up, the user's own words count as much as the completed question, so
        the answer is about what was asked now and not about the earlier topic.
        """
        snap = snap or self._searcher.snapshot()
        questions = [question]
        focus = focus_of(question)
        if focus:
            questions.append(focus)
        vectors = [self._searcher.query_vector(q) for q in questions]
        term_weights = []
        for q in questions:
            weights = {t: snap.bm25.idf(t) for t in set(snap.analyzer.analyze(q))}
            term_weights.append((weights, sum(weights.values())))
        # "Hoeveel …?", "tot wanneer …?": the answer is a sentence with a number or a date in it.
        wants_quantity = _asks_quantity(question)
        candidates: list[ScoredSentence] = []
        for hit in hits:
            qv = snap.question_vector(hit.chunk.id)
            faq = _band(float(qv @ vectors[0])) if qv is not None else 0.0
            for position, (text, vector) in enumerate(snap.sentences(hit.chunk.id)):
                if text.endswith("?") or not _is_prose(text) or (_is_figure_run(text) and not wants_quantity):
                    continue
                c = ScoredSentence(hit, position, text)
                terms = set(snap.analyzer.analyze(text))
                c.dense = float(np.mean([vector @ v for v in vectors]))
                c.lexical = float(np.mean([sum(w for t, w in weights.items() if t in terms) / total if total else 0.0 for weights, total in term_weights]))
                lead = faq if position <= 1 else 0.0  # an FAQ answer starts right after its question
                typed = 0.15 if wants_quantity and _QUANTITY.search(text) else 0.0
                # e5 cosine similarities live in a narrow band (~0.75-0.9): rescale before mixing.
                c.score = 0.5 * _band(c.dense) + 0.3 * c.lexical + 0.2 * lead + 0.2 / hit.rank + typed
                candidates.append(c)
        candidates.sort(key=lambda c: -c.score)
        return candidates

    def _select(self, ranked: list[ScoredSentence], question: str, analyzer: DutchAnalyzer) -> list[ScoredSentence]:
        best = ranked[0]
        # A question that asks for a figure, a date or a named thing: a sentence from another passage
        # earns its citation only by holding such an answer too, not by being about the same topic.
        slotted = bool(_asked_parts(question))
        chosen = [best]
        budget = 650 - len(best.text)
        for c in ranked[1:]:
            if len(chosen) >= self._settings.max_answer_sentences:
                break
            neighbour = c.hit.chunk.id == best.hit.chunk.id and abs(c.position - best.position) == 1
            good = c.score >= best.score * (0.5 if neighbour else 0.9)
            if good and slotted and c.hit.chunk.id != best.hit.chunk.id:
                good = fills_slot(question, [c.text], analyzer)
            if good and len(c.text) <= budget and not _near_duplicate(c, chosen):
                chosen.append(c)
                budget -= len(c.text)
        # A sentence that announces a list ("drie nieuwe opdrachten", "…:") is incomplete without the next one.
        by_place = {(c.hit.chunk.id, c.position): c for c in ranked}
        for c in list(chosen):
            follower = by_place.get((c.hit.chunk.id, c.position + 1))
            if follower and follower not in chosen and _ANNOUNCES_LIST.search(c.text) and len(follower.text) <= budget + 200:
                chosen.append(follower)
                budget -= len(follower.text)
        return _in_reading_order(chosen)


def _runner_up(asked: str, ranked: list[ScoredSentence], chosen: list[ScoredSentence], analyzer: DutchAnalyzer) -> ScoredSentence | None:
    """The best candidate not yet chosen that holds what `asked` asks for, if it is a reasonable match
    for the whole question (at least _PART_MIN_SCORE of the best sentence's score)."""
    floor = _PART_MIN_SCORE * ranked[0].score
    return next((c for c in ranked if c not in chosen and c.score >= floor and fills_slot(asked, [c.text], analyzer)), None)


def _in_reading_order(chosen: list[ScoredSentence]) -> list[ScoredSentence]:
    """Coherent order: by source as first cited, then by position in the passage."""
    first_rank: dict[str, int] = {}
    for c in chosen:
        first_rank.setdefault(c.hit.chunk.id, len(first_rank))
    return sorted(chosen, key=lambda c: (first_rank[c.hit.chunk.id], c.position))


def in_scope(question: str, chosen: Sequence[ScoredSentence], snap: IndexSnapshot) -> bool:
    """Whether the quoted passages are about the subject the question names.

    A question that names what one document is about (a term of that document's title only, rare
    elsewhere: "begeleidingsproject") is not answered from passages that never mention it, however
    well the rest matches: the rules of one funding call are no answer about another.
    """
    asked = set(snap.analyzer.analyze(focus_of(question) or question)) & snap.scope_terms
    if not asked:
        return True
    seen: set[str] = set()
    for c in chosen:
        seen.update(snap.analyzer.analyze(c.hit.chunk.context_text()))
    return asked <= seen


def fills_slot(question: str, sentences: Sequence[str], analyzer: DutchAnalyzer) -> bool:
    """Whether the chosen sentences hold the kind of thing the question asks for.

    "Hoeveel …" needs a figure ("geen limiet" counts when a limit is asked), "wat kost …" an amount
    or "gratis", "tot/sinds wanneer …" an end or start date, "hoe lang …" a duration, a bare
    "wanneer …" a date or a moment, and "hoeveel aanvragen …" the thing counted by name (stem,
    compound part or a long common prefix). Links do not count: their digits are no figures. A
    question in parts ("hoeveel … en tot wanneer …") is answered when one of its parts is.
    """
    asked = _asked_parts(question)
    joined = _joined(sentences)
    return not asked or any(_filled(part, joined, analyzer) for part in asked)


def unfilled_parts(question: str, sentences: Sequence[str], analyzer: DutchAnalyzer) -> list[str]:
    """The parts of the question that ask for a figure, amount, date or named thing the sentences lack."""
    joined = _joined(sentences)
    return [part for part in question_parts(focus_of(question) or question) if not _filled(part, joined, analyzer)]


def _asked_parts(question: str) -> list[str]:
    """The parts of the question (of a follow-up: of the user's own words) that ask for a figure, an
    amount, a date or a named thing."""
    return [part for part in question_parts(focus_of(question) or question) if _slots(part)]


def _joined(sentences: Sequence[str]) -> str:
    return " ".join(_LINK.sub("", s) for s in sentences)  # links do not count: their digits are no figures


def question_parts(question: str) -> list[str]:
    """"Hoe lang duurt het en wat kost het?" -> two parts; a question with one ask stays whole."""
    parts = re.split(r"\?\s+|\s+en\s+(?=(?:hoeveel|hoe|wat|welke|wie|wanneer|tot wanneer|sinds wanneer|waar|waarom)\b)", question.strip(), flags=re.IGNORECASE)
    return [p.strip(" ?,") for p in parts if p and p.strip(" ?,")]


def _slots(part: str) -> bool:
    return bool(_ASKS_QUANTITY.search(part) or _ASKS_PRICE.search(part) or _ASKS_DATE.search(part) or _asked_head(part))


def _filled(part: str, joined: str, analyzer: DutchAnalyzer) -> bool:
    # "Wanneer moet de toestemming er zijn?" is answered by a moment ("bij de aanvraag"), not only
    # by a figure; "tot/sinds wanneer" still needs a date below.
    wants_figure = _ASKS_QUANTITY.search(_BARE_WHEN.sub("", part))
    no_limit = _ASKS_LIMIT.search(part) and _NO_LIMIT.search(joined)
    if wants_figure and not (_QUANTITY.search(joined) or no_limit):
        return False
    if _ASKS_PRICE.search(part) and not _MONEY.search(joined):
        return False
    if _ASKS_AMOUNT.search(part) and _ASKS_MONEY.search(part) and not _MONEY.search(joined):
        return False  # "het maximale bedrag", "hoeveel werkingssubsidie": an amount of money, not any figure
    if _ASKS_DATE.search(part) and not _DATE.search(joined):
        return False
    if _BARE_WHEN.search(part) and not (_DATE.search(joined) or _MOMENT.search(joined)):
        return False  # "wanneer …?" wants a date or a moment ("reeds bij de aanvraag", "zodra …")
    if re.search(r"\bhoe lang\b", part, re.IGNORECASE) and not _DURATION.search(joined):
        return False  # "hoe lang duurt het?" wants a duration, not the first figure in sight
    # "Tot wanneer loopt het?" is not answered by any year in the text but by an end ("tot en met 2027").
    if re.search(r"\btot wanneer\b", part, re.IGNORECASE) and not _UNTIL_DATE.search(joined):
        return False
    if re.search(r"\b(sinds|vanaf) wanneer\b", part, re.IGNORECASE) and not _SINCE_DATE.search(joined):
        return False
    head = _asked_head(part)
    if not head:
        return True
    if head.lower() in _MONEY_WORDS:
        return bool(_MONEY.search(joined))
    if head.lower() in _PERCENT_WORDS:
        return "%" in joined or "procent" in joined.lower()
    # "hoeveel begeleidingsprojecten" is answered by "acht projecten": the compound's parts count too.
    wanted = set(analyzer.analyze(head)) | {analyzer.stem(p) for p in analyzer.split_compound(head.lower())}
    return not wanted or bool(wanted & set(analyzer.analyze(joined))) or _shares_prefix(head, joined)


# "geen limiet" answers a question about what is allowed or capped, not "hoeveel aanvragen kwamen er binnen".
_ASKS_LIMIT = re.compile(r"\b(mag|mogen|kan|kunnen|moet|moeten|maximum|maximaal|minimum|minimaal|minstens|limiet|beperking|grens)\b", re.IGNORECASE)
_MOMENT = re.compile(
    r"\b(wanneer|zodra|tijdens|nadat|voordat|vooraleer|vooraf|voorafgaand|achteraf|reeds|meteen|onmiddellijk|"
    r"eerst|daarna|nadien|na afloop|op het moment|bij (de|het) \w*(start|aanvraag|voorstel|indiening|indienen))\b",
    re.IGNORECASE,
)
_BARE_WHEN = re.compile(r"(?<!tot )(?<!sinds )(?<!vanaf )\bwanneer\b", re.IGNORECASE)


_NO_LIMIT = re.compile(r"\b(geen (limiet|maximum|minimum|grens|beperking|regels)|onbeperkt|niet (nodig|noodzakelijk|verplicht)|volledig vrij)\b", re.IGNORECASE)
_ASKS_MONEY = re.compile(r"(bedrag|geld|budget|subsidie|financiering)\b", re.IGNORECASE)
_ASKS_AMOUNT = re.compile(r"\b(hoeveel|welk|hoe hoog|hoe groot|maximale|minimale|totale)\b", re.IGNORECASE)
_ASKS_PRICE = re.compile(r"\b(wat kost|wat kosten|hoeveel kost|hoeveel kosten|kostprijs|prijs|hoeveel betaal|wat betaal)", re.IGNORECASE)
_MONEY = re.compile(r"€|\beuro\b|\beur\b|\bgratis\b|kosteloos|betaling|betalend", re.IGNORECASE)
_ASKS_DATE = re.compile(r"\b(tot wanneer|sinds wanneer|vanaf wanneer|welke datum|op welke dag|welk jaar|deadline|uiterste datum)\b", re.IGNORECASE)
_DATE_WORD = (r"((19|20)\d\d|\d{1,2}[/-]\d{1,2}|januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|"
              r"november|december|voorjaar|najaar|zomer|winter|schooljaar)")
_DATE = re.compile(r"\b" + _DATE_WORD + r"\b", re.IGNORECASE)
_DURATION = re.compile(r"(?<!per )(?<!elk )(?<!ieder )\b(jaar|jaren|maand|maanden|week|weken|dag|dagen|uur|uren|minuten|semester|trimester|schooljaar|schooljaren)\b", re.IGNORECASE)
_UNTIL_DATE = re.compile(r"\b(tot|t\.e\.m\.|uiterlijk|eindigt|einde|afloop)\b[^.;]{0,40}?\b" + _DATE_WORD, re.IGNORECASE)
_SINCE_DATE = re.compile(r"\b(sinds|vanaf|sedert|startte|begon|in werking)\b[^.;]{0,40}?\b" + _DATE_WORD, re.IGNORECASE)
# "hoeveel aanvragen": the word after "hoeveel" names what is counted. ("Welke taken" is answered by
# naming the tasks, often without the word "taken": no such check there.)
_HEAD = re.compile(r"\b(?:hoeveel|wat(?=\s+kost))\s+(?:(?:eigen|extra|andere|nieuwe|verschillende|soort|type)\s+)?([\w-]{3,})", re.IGNORECASE)
_MONEY_WORDS = frozenset({"geld", "bedrag", "budget", "subsidie", "middelen", "euro", "financiering"})
_PERCENT_WORDS = frozenset({"procent", "percent", "percentage"})
_PRICE_VERBS = frozenset({"kost", "kosten", "betaal", "betaalt", "betalen", "bedraagt"})
_ADJECTIVE_ENDINGS = ("nde", "end", "ste", "ige", "ele", "lijke", "lijks", "ische")  # "bijkomend geld"
# "Hoeveel kreeg het SNPB aan subsidie?": a verb right after "hoeveel" counts nothing itself; what is
# counted, if named, follows "aan". (Auxiliaries such as "is", "werd", "kan" are stop words already.)
_HEAD_VERBS = frozenset({
    "krijg", "krijgt", "krijgen", "kreeg", "kregen", "ontvang", "ontvangt", "ontvangen", "ontving", "ontvingen",
    "bedroeg", "verdien", "verdient", "verdienen", "telt", "tellen", "telde", "gaat", "gaan", "ging", "gingen",
    "komt", "komen", "kwam", "kwamen", "zit", "zitten", "zat", "staat", "staan", "stond", "bestaat", "bestond",
    "vraagt", "vragen", "vroeg", "heb", "hebt", "levert", "leverde", "bracht", "brengt", "kostte", "kostten",
})


def _asked_head(question: str) -> str:
    """The noun after "hoeveel": "hoeveel bestaande scholen" -> "scholen" (an adjective is skipped);
    "hoeveel/wat kost een parkeerkaart" -> "parkeerkaart" (the thing priced, not the verb);
    "hoeveel kreeg het SNPB aan subsidie" -> "subsidie" (after a verb, what follows "aan")."""
    m = _HEAD.search(question)
    if not m:
        return ""
    word = m.group(1)
    if word.lower() in _HEAD_VERBS:
        counted = re.search(r"\baan\s+([\w-]{3,})", question[m.end():], re.IGNORECASE)
        return counted.group(1) if counted else ""
    if word.lower() in _PRICE_VERBS:
        after = [w for w in re.findall(r"[\w-]+", question[m.end():]) if w.lower() not in DUTCH_STOPWORDS]
        return after[0] if after else ""
    after = question[m.end():].split()
    if word.lower().endswith(_ADJECTIVE_ENDINGS) and after and after[0].isalpha() and after[0].lower() not in DUTCH_STOPWORDS:
        return after[0]
    return word


def _shares_prefix(head: str, text: str, n: int = 5) -> bool:
    """"cursussen" ~ "cursusaanbod", "AI-chatbot" ~ "chatbots": a long common prefix with some word."""
    parts = [p.lower() for p in re.split(r"[-\s]", head) if len(p) >= n]
    words = {w.lower()[:n] for w in re.findall(r"\w+", text) if len(w) >= n}
    return any(p[:n] in words for p in parts)


def _asks_quantity(question: str) -> bool:
    """Whether the user's own words ask for an amount or a date."""
    return bool(_ASKS_QUANTITY.search(focus_of(question) or question))


def _is_prose(text: str) -> bool:
    """A sentence a person can read as an answer, not a run of links or table debris."""
    without_links = _LINK.sub("", text)
    words = _LETTER_WORD.findall(without_links)
    return len(words) >= 4 and len(without_links) >= 0.6 * len(text) and not _CAPTION.match(text)


def _is_figure_run(text: str) -> bool:
    """A line of an infographic or a table ("896 Poster (praatplaat) 663 Reflectiekaarten 657 …"):
    figures with labels, no sentence. It answers "hoeveel …?", not a question about what or why."""
    figures = len(_FIGURE.findall(text))
    words = len(_LETTER_WORD.findall(text))
    return figures > 3 and figures * 3 >= words and not re.search(r"[.!?]\s*$", text)


def _band(similarity: float, low: float = 0.75, high: float = 0.9) -> float:
    return float(np.clip((similarity - low) / (high - low), 0.0, 1.0))


def compose(question: str, chosen: Sequence[ScoredSentence], *, mode: str) -> Answer:
    """Join chosen sentences into an answer with [n] markers; citations numbered in order of use."""
    numbers: dict[str, int] = {}
    used: dict[str, list[str]] = {}
    hits: dict[str, Hit] = {}
    parts: list[str] = []
    for c in chosen:
        cid = c.hit.chunk.id
        n = numbers.setdefault(cid, len(numbers) + 1)
        hits[cid] = c.hit
        used.setdefault(cid, []).append(c.text)
        parts.append(f"{c.text} [{n}]")
    citations = [Citation(n=numbers[cid], hit=hits[cid], sentences=tuple(used[cid])) for cid in numbers]
    return Answer(question=question, standalone_question=question, text=" ".join(parts), refused=False, mode=mode, citations=citations)


def refusal(question: str, hits: Sequence[Hit], notice: str = "") -> Answer:
    """The calm 'not in the documents' answer, listing the closest passages as possibly relevant."""
    citations = [Citation(n=i, hit=h) for i, h in enumerate(hits[:3], start=1)]
    return Answer(
        question=question, standalone_question=question, text=NOT_FOUND, refused=True, mode="extractive",
        citations=citations, notice=notice,
    )


def _near_duplicate(candidate: ScoredSentence, chosen: Sequence[ScoredSentence]) -> bool:
    words = set(candidate.text.lower().split())
    for c in chosen:
        other = set(c.text.lower().split())
        if words and len(words & other) / len(words | other) > 0.7:
            return True
    return False
