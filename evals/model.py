"""The evaluation report as one typed value, shared by the runner, the Markdown/PNG report and the app."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

SYSTEM = "vraagpunt"  # the system under test; the others are baselines
# Headline metrics, in the order reports show them. Lower is better for the ones in LOWER_IS_BETTER.
HEADLINE = (
    "recall_at_1", "recall_at_5", "recall_at_10", "mrr_at_10", "ndcg_at_10", "both_found_at_10",
    "key_fact_recall", "key_fact_recall_retrieved", "direct_key_facts", "answer_chars", "citation_precision",
    "evidence_cited", "cited_retrieved_rate", "refusal_precision", "refusal_recall", "false_refusal_rate",
    "doubt_recall", "false_doubt_rate", "followup_read", "answer_f1", "latency_p50_ms", "latency_p95_ms",
)
LOWER_IS_BETTER = frozenset({"false_refusal_rate", "false_doubt_rate", "answer_chars", "latency_p50_ms", "latency_p95_ms"})


@dataclass(frozen=True)
class SystemInfo:
    name: str
    label: str
    question: str = "standalone"  # "standalone" (the follow-up rewritten) or "raw"


@dataclass
class EvalReport:
    """One run of an evaluation set through Vraagpunt and its baselines."""

    created: str
    dataset: str  # the set's absolute path: runs compare only with runs on the same set
    n_items: int
    k: int  # cut-off for the failure list and for "cited passages were retrieved"
    retrieve_k: int
    systems: list[SystemInfo]
    headline: dict[str, dict]  # {system: {metric: value}}
    by_kind: dict[str, dict[str, dict]] = field(default_factory=dict)  # {kind: {system: metrics}}
    by_persona: dict[str, dict[str, dict]] = field(default_factory=dict)
    failures: dict[str, list] = field(default_factory=dict)
    items: list[dict] = field(default_factory=list)  # per question: id, kind, question, systems: {name: record}
    settings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    dataset_problems: list[str] = field(default_factory=list)
    sealed: bool = False  # a sealed set: read its totals, never choose anything with it
    seconds: float = 0.0
    comparison: dict | None = None
    charts: list[str] = field(default_factory=list)
    version: int = 2

    def label(self, system: str) -> str:
        return next((s.label for s in self.systems if s.name == system), system)

    def ours(self) -> dict:
        return self.headline.get(SYSTEM, {})

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> EvalReport:
        """A report from its JSON form; older reports (without newer fields) load with defaults."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["systems"] = [
            SystemInfo(**{k: v for k, v in s.items() if k in ("name", "label", "question")})
            for s in data.get("systems") or [] if isinstance(s, dict) and s.get("name")
        ] or [SystemInfo(SYSTEM, "Vraagpunt")]
        for name in ("created", "dataset"):
            values.setdefault(name, "")
        values.setdefault("n_items", len(data.get("items") or []))
        values.setdefault("k", 5)
        values.setdefault("retrieve_k", 10)
        values.setdefault("headline", {})
        return cls(**values)
