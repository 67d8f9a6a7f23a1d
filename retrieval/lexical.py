"""Dutch lexical search: Snowball stemming, stop words, compound splitting and BM25."""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import snowballstemmer

from vraagpunt import dutch
from vraagpunt.dutch import LINKING_SOUNDS
from vraagpunt.dutch import STOPWORDS as DUTCH_STOPWORDS

_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)*%?|[a-zà-ÿ]+(?:['’][a-z]+)?", re.IGNORECASE)
_LINKS = LINKING_SOUNDS
# A corpus word seen more often than this is not split into compound parts. On the evaluation set's odd
# ids 3, 7 and 10 tied for the best R@1 and R@5 (of 2, 3, 5, 7, 10, 30 and "always split"); the even
# ids agreed within two questions.
SPLIT_MAX_COUNT = 3
_TEXT_CACHE = 20_000


class DutchAnalyzer:
    """Tokens -> stems. Knows the corpus vocabulary to split compounds into parts it has seen."""

    def __init__(self, vocabulary: Iterable[str] = (), lexicalised: Iterable[str] = ()) -> None:
        self._stemmer = snowballstemmer.stemmer("dutch")
        self._vocabulary = {w for w in vocabulary if len(w) >= 4 and w not in DUTCH_STOPWORDS}
        self._lexicalised = frozenset(lexicalised)
        self._cache: dict[str, list[str]] = {}
        self._texts: dict[str, tuple[str, ...]] = {}  # analysed texts: passages and sentences recur per question

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> DutchAnalyzer:
        """An analyzer that knows a corpus: words seen twice are compound parts; words seen more than
        SPLIT_MAX_COUNT times are words in their own right and are not split."""
        return cls.from_counts(Counter(w for text in texts for w in cls.words(text)))

    @classmethod
    def from_counts(cls, counts: Counter[str]) -> DutchAnalyzer:
        """`from_texts` for word counts gathered elsewhere (the snapshot reads each passage once)."""
        return cls((w for w, n in counts.items() if n >= 2), (w for w, n in counts.items() if n > SPLIT_MAX_COUNT))

    @staticmethod
    def words(text: str) -> list[str]:
        return [t.lower().replace("’", "'") for t in _TOKEN.findall(text)]

    def analyze(self, text: str) -> list[str]:
        cached = self._texts.get(text)
        if cached is None:
            terms: list[str] = []
            for word in self.words(text):
                if word in DUTCH_STOPWORDS:
                    continue
                terms.extend(self._terms(word))
            cached = tuple(terms)
            if len(self._texts) >= _TEXT_CACHE:  # questions are new every time: keep the cache bounded
                self._texts.clear()
            self._texts[text] = cached
        return list(cached)

    def stem(self, word: str) -> str:
        return self._stemmer.stemWord(word)

    def _terms(self, word: str) -> list[str]:
        cached = self._cache.get(word)
        if cached is None:
            cached = [self.stem(word)]
            if word not in self._lexicalised:
                cached.extend(self.stem(part) for part in self.split_compound(word))
            self._cache[word] = cached
        return cached

    def split_compound(self, word: str) -> list[str]:
        """Parts of a compound that occur as words in the corpus ("overheadkosten" -> overhead, kosten).

        Stop words are no parts. `analyze` adds the parts only for words the corpus rarely uses: a
        word it uses often ("leerkrachten", "onderzoek") is a word of its own, and its parts are
        noise ("leerkr" from "Leerkr@cht.net", "zoek").
        """
        if len(word) < 8 or not word.isalpha() or not self._vocabulary:
            return []
        best: list[str] = []
        for i in range(4, len(word) - 3):
            left, right = word[:i], word[i:]
            for link in ("",) + _LINKS:
                if link and not right.startswith(link):
                    continue
                rest = right[len(link):]
                if len(rest) >= 4 and left in self._vocabulary and rest in self._vocabulary:
                    if len(left) + len(rest) > sum(map(len, best)):
                        best = [left, rest]
        return best


def char_ngrams(text: str, n: int = 4) -> list[str]:
    """Character n-grams of the longer words: tolerant to typos and to compounds the splitter misses."""
    return word_ngrams(DutchAnalyzer.words(text), n)


def word_ngrams(words: Iterable[str], n: int = 4) -> list[str]:
    """`char_ngrams` of words already split by `DutchAnalyzer.words`."""
    grams: list[str] = []
    for word in words:
        grams.extend(_word_ngrams(word, n))
    return grams


@functools.lru_cache(maxsize=100_000)
def _word_ngrams(word: str, n: int) -> tuple[str, ...]:
    if len(word) < 5 or word in DUTCH_STOPWORDS or not word.isalpha():
        return ()
    padded = f"_{word}_"
    return tuple(padded[i : i + n] for i in range(len(padded) - n + 1))


class BM25:
    """Okapi BM25 over pre-analysed documents, stored as numpy postings.

    Each term's postings hold its documents and their precomputed term weights, so scoring a question
    is a few array gathers and one `bincount`, and 100 times the corpus costs arrays, not millions of
    Python dicts (Counters per document took gigabytes for the letter 4-grams).
    """

    def __init__(self, documents: Iterable[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        from scipy.sparse import csr_matrix

        self.k1, self.b = k1, b
        ids: dict[str, int] = {}
        terms: list[np.ndarray] = []  # per document: its distinct terms' ids and their counts
        counts: list[np.ndarray] = []
        lengths: list[int] = []
        for doc in documents:
            tf = Counter(doc)
            terms.append(np.fromiter((ids.setdefault(t, len(ids)) for t in tf), dtype=np.int32, count=len(tf)))
            counts.append(np.fromiter(tf.values(), dtype=np.float32, count=len(tf)))
            lengths.append(len(doc))
        self.size = len(lengths)
        indptr = np.zeros(self.size + 1, dtype=np.int64)
        np.cumsum([len(t) for t in terms], out=indptr[1:])
        term = np.concatenate(terms) if terms else np.zeros(0, dtype=np.int32)
        tf = np.concatenate(counts) if counts else np.zeros(0, dtype=np.float32)
        del terms, counts
        length = np.asarray(lengths, dtype=np.float64)
        avg = float(length.mean()) if self.size else 0.0
        df = np.bincount(term, minlength=len(ids)).astype(np.float64)
        idf = np.log(1 + (self.size - df + 0.5) / (df + 0.5))
        norm = np.repeat((k1 * (1 - b + b * length / (avg or 1))).astype(np.float32), np.diff(indptr))
        weight = (idf[term].astype(np.float32) * tf * np.float32(k1 + 1) / (tf + norm)).astype(np.float32)
        del norm, tf
        # Transposed to postings (documents per term, in document order) by scipy's C routine: sorting
        # the (document, term) pairs in numpy took twice the memory, a gigabyte for the 4-grams at 100x.
        postings = csr_matrix((weight, term, indptr), shape=(self.size, len(ids))).tocsc()
        del weight, term
        self._docs = postings.indices.astype(np.int32, copy=False)
        self._weights = postings.data
        self._starts = postings.indptr
        self._ids = ids
        self._idf = {t: float(idf[i]) for t, i in ids.items()}

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Everything `from_arrays` needs, as named arrays (terms in id order)."""
        terms = sorted(self._ids, key=self._ids.get)
        return {
            f"{prefix}docs": self._docs, f"{prefix}weights": self._weights, f"{prefix}starts": self._starts,
            f"{prefix}idf": np.fromiter((self._idf[t] for t in terms), dtype=np.float64, count=len(terms)),
            f"{prefix}terms": _joined(terms), f"{prefix}meta": np.array([self.size, self.k1, self.b]),
        }

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> BM25:
        bm25 = cls.__new__(cls)
        size, bm25.k1, bm25.b = arrays[f"{prefix}meta"].tolist()
        bm25.size = int(size)
        bm25._docs, bm25._weights = arrays[f"{prefix}docs"], arrays[f"{prefix}weights"]
        bm25._starts = arrays[f"{prefix}starts"]
        terms = _split(arrays[f"{prefix}terms"])
        bm25._ids = {t: i for i, t in enumerate(terms)}
        bm25._idf = dict(zip(terms, arrays[f"{prefix}idf"].tolist()))
        return bm25

    def idf(self, term: str) -> float:
        return self._idf.get(term, 0.0)

    def terms(self) -> Iterable[str]:
        return self._idf.keys()

    def score_array(self, query: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """(score of every document, whether it holds any query term); a term counts once."""
        found = sorted(self._ids[t] for t in set(query) if t in self._ids)
        if not found:
            return np.zeros(self.size), np.zeros(self.size, dtype=bool)
        docs = np.concatenate([self._docs[self._starts[t] : self._starts[t + 1]] for t in found])
        weights = np.concatenate([self._weights[self._starts[t] : self._starts[t + 1]] for t in found])
        scores = np.bincount(docs, weights=weights, minlength=self.size)
        touched = np.zeros(self.size, dtype=bool)
        touched[docs] = True
        return scores, touched

    def scores(self, query: list[str]) -> dict[int, float]:
        """{document number: score} of the documents that hold a query term."""
        scores, touched = self.score_array(query)
        return {int(i): float(scores[i]) for i in np.flatnonzero(touched)}


class CorpusVocabulary:
    """How the corpus uses each word, next to how everyday Dutch uses it (wordfreq).

    A word is *specific* when the corpus uses it far more than everyday Dutch does (its keyness) and
    not in most passages (its IDF): "begeleidingsproject", "smartschool", "vte" are; "scholen" (in
    every other passage), "eigenlijk" and "periode" (everyday words) are not. A question that names
    such a word has a subject of its own (see retrieval.query).
    """

    MIN_KEYNESS = 1.5  # log10 of (share in the corpus / share in everyday Dutch)
    MIN_IDF = 2.5

    def __init__(self, documents: Iterable[tuple[str, str]] = ()) -> None:
        """`documents`: (source, text) pairs, one per passage (or `add` them one by one)."""
        self._counts: Counter[str] = Counter()
        self._df: Counter[str] = Counter()
        self._sources: dict[str, set[str]] = {}
        self._n = 0
        self._words = 0
        self._specific: dict[str, bool] = {}
        for source, text in documents:
            self.add(source, DutchAnalyzer.words(text))

    def add(self, source: str, words: list[str]) -> None:
        """One passage, as `DutchAnalyzer.words` split it."""
        self._counts.update(words)
        tokens = set(words)
        self._df.update(tokens)
        for token in tokens:
            self._sources.setdefault(token, set()).add(source)
        self._n += 1
        self._words += len(words)
        self._specific.clear()

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything `from_arrays` needs, as named arrays."""
        words = list(self._counts)
        sources = sorted({s for found in self._sources.values() for s in found})
        number = {s: i for i, s in enumerate(sources)}
        used = [sorted(number[s] for s in self._sources.get(w, ())) for w in words]
        return {
            "vocab_words": _joined(words), "vocab_sources": _joined(sources),
            "vocab_counts": np.fromiter((self._counts[w] for w in words), dtype=np.int64, count=len(words)),
            "vocab_df": np.fromiter((self._df[w] for w in words), dtype=np.int64, count=len(words)),
            "vocab_used": np.fromiter((i for u in used for i in u), dtype=np.int32),
            "vocab_used_starts": np.cumsum([0] + [len(u) for u in used], dtype=np.int64),
            "vocab_meta": np.array([self._n, self._words], dtype=np.int64),
        }

    @classmethod
    def from_arrays(cls, arrays) -> CorpusVocabulary:
        vocabulary = cls()
        words, sources = _split(arrays["vocab_words"]), _split(arrays["vocab_sources"])
        vocabulary._counts = Counter(dict(zip(words, arrays["vocab_counts"].tolist())))
        vocabulary._df = Counter(dict(zip(words, arrays["vocab_df"].tolist())))
        used, starts = arrays["vocab_used"].tolist(), arrays["vocab_used_starts"].tolist()
        vocabulary._sources = {w: {sources[i] for i in used[starts[j] : starts[j + 1]]} for j, w in enumerate(words)}
        vocabulary._n, vocabulary._words = (int(v) for v in arrays["vocab_meta"])
        return vocabulary

    @property
    def word_counts(self) -> Counter[str]:
        """How often the corpus uses each word (read only)."""
        return self._counts

    @property
    def _total(self) -> int:
        return self._words or 1

    def sources(self, word: str) -> frozenset[str]:
        """The documents that use a word."""
        return frozenset(self._sources.get(word.lower(), ()))

    def idf(self, word: str) -> float:
        df = self._df.get(word, 0)
        return math.log(1 + (self._n - df + 0.5) / (df + 0.5)) if df else 0.0

    def keyness(self, word: str) -> float:
        """log10 of how much more often the corpus uses the word than everyday Dutch; 0 when absent."""
        from wordfreq import zipf_frequency

        count = self._counts.get(word, 0)
        if not count:
            return 0.0
        zipf = zipf_frequency(word, "nl")
        everyday = 10 ** (zipf - 9) if zipf > 0 else 1e-9  # Zipf = log10 of occurrences per 10^9 words
        return math.log10((count / self._total) / everyday)

    def is_specific(self, word: str) -> bool:
        word = word.lower()
        cached = self._specific.get(word)
        if cached is None:
            cached = self.keyness(word) >= self.MIN_KEYNESS and self.idf(word) >= self.MIN_IDF
            self._specific[word] = cached
        return cached


def _joined(strings: list[str]) -> np.ndarray:
    """Strings as one UTF-8 byte array (none of them holds a newline: they are words or file names)."""
    return np.frombuffer("\n".join(strings).encode("utf-8"), dtype=np.uint8)


def _split(array: np.ndarray) -> list[str]:
    text = array.tobytes().decode("utf-8")
    return text.split("\n") if text else []


class Lexicon:
    """The lexical side of one index generation: corpus vocabulary, analyser, BM25 over the analysed
    passages and BM25 over their letter 4-grams.

    Building it reads every passage in Python: at 100x the corpus that was 80% of a cold start (~22 of
    27 s). It depends only on the generation's passages and on this code, so it is built once, saved
    beside the generation (`save`), and loaded as arrays by every later process (`load`).
    """

    def __init__(self, vocabulary: CorpusVocabulary, bm25: BM25, ngrams: BM25,
                 analyzer: DutchAnalyzer | None = None) -> None:
        self.vocabulary = vocabulary
        self.analyzer = analyzer or DutchAnalyzer.from_counts(vocabulary.word_counts)
        self.bm25 = bm25
        self.ngrams = ngrams

    @classmethod
    def build(cls, passages: list[tuple[str, str, str]]) -> Lexicon:
        """`passages`: (source, text with its title and section, FAQ question or "") in chunk order."""
        vocabulary = CorpusVocabulary()

        def grams() -> Iterable[list[str]]:  # each passage is split into words once, for both
            for source, text, _ in passages:
                words = DutchAnalyzer.words(text)
                vocabulary.add(source, words)
                yield word_ngrams(words)

        ngrams = BM25(grams())
        analyzer = DutchAnalyzer.from_counts(vocabulary.word_counts)  # needs every word to split compounds

        def terms(text: str, question: str) -> list[str]:
            found = analyzer.analyze(text)
            return found + analyzer.analyze(question) if question else found  # the FAQ question counts twice

        return cls(vocabulary, BM25(terms(text, question) for _, text, question in passages), ngrams, analyzer)

    def save(self, path: Path) -> None:
        """Write atomically: a reader sees the whole file or none (several processes may build it at once)."""
        arrays = {**self.vocabulary.arrays(), **self.bm25.arrays("bm25_"), **self.ngrams.arrays("ngrams_")}
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(partial, "wb") as out:
                np.savez(out, **arrays)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        with np.load(path, allow_pickle=False) as arrays:
            loaded = {name: arrays[name] for name in arrays.files}
        return cls(CorpusVocabulary.from_arrays(loaded), BM25.from_arrays(loaded, "bm25_"),
                   BM25.from_arrays(loaded, "ngrams_"))


def lexicon_file(folder: Path) -> Path:
    """Where a generation's lexicon is kept. The name carries a hash of the code that builds it, so a
    newer analyser (other stop words, another stemmer) never reads an older one's file."""
    return folder / f"lexicon-{_code_hash(__file__, dutch.__file__)}.npz"


@functools.lru_cache(maxsize=4)
def _code_hash(*modules: str) -> str:
    """A hash of the analyser's source files and the stemmer's version (read once per process)."""
    from importlib.metadata import PackageNotFoundError, version

    code = hashlib.sha256()
    for module in modules:
        code.update(Path(module).read_bytes())
    try:
        code.update(version("snowballstemmer").encode())
    except PackageNotFoundError:
        pass
    return code.hexdigest()[:16]
