"""The evaluation report: OUT/report.json (the machine-readable contract), OUT/report.md (a table per mode, the
worst examples with their per-claim verdicts) and PNG plots (verdicts per mode, accuracy vs coverage, latency).

report.json contract: {"questions": N, "modes": {"<mode>": {"n", "answered", "accuracy_shown",
"shown_wrong_rate", "flagged_rate", "abstain_rate_answerable", "abstain_rate_not_in_book", "misconception_rate",
"recall_at_5", "latency_p50_s", "latency_p95_s", ...}}, ...}; rates are fractions in [0, 1], null where a
metric does not apply. The metric definitions are in engine/evaluation/scoring.py.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from engine.core.files import write_text_atomic
from engine.evaluation import scoring

log = logging.getLogger(__name__)

CONTRACT = (
    "n",
    "answered",
    "accuracy_shown",
    "shown_wrong_rate",
    "flagged_rate",
    "abstain_rate_answerable",
    "abstain_rate_not_in_book",
    "misconception_rate",
    "recall_at_5",
    "latency_p50_s",
    "latency_p95_s",
)
LABELS = {
    "n": "questions evaluated",
    "answered": "answers shown",
    "accuracy_shown": "accuracy of shown answers",
    "shown_wrong_rate": "shown-wrong rate (wrong, displayed as fact)",
    "flagged_rate": "flagged rate",
    "abstain_rate_answerable": "abstention, answerable (lost coverage)",
    "abstain_rate_not_in_book": "abstention, not in book (correct)",
    "misconception_rate": "misconception rate",
    "recall_at_5": "retrieval recall@5",
    "latency_p50_s": "latency p50 (s)",
    "latency_p95_s": "latency p95 (s)",
    "no_answer_rate": "shown, asserting no choice / not answering",
    "right_rate_answerable": "right, of answerable (free answer)",
    "not_answering_rate_answerable": "shown but not answering, of answerable",
    "wrong_rate_answerable": "shown and wrong, of answerable",
    "correct": "correct answers",
    "abstain_rate": "abstention, all questions",
    "answered_not_in_book": "answers shown on not-in-book questions",
}
PLOTS = {"verdicts": "verdicts.png", "accuracy_coverage": "accuracy_coverage.png", "latency": "latency.png"}
VERDICT_COLOURS = {
    "grounded": "#2e7d32",
    "corrected": "#1565c0",
    "flagged": "#f9a825",
    "answered": "#78909c",
    "abstained": "#bdbdbd",
}
WORST_EXAMPLES = 5


def build_report(rows: dict[str, list[dict]], questions: int, qset, meta: dict) -> dict:
    modes = {mode: scoring.aggregate_mode(mode, mode_rows) for mode, mode_rows in rows.items()}
    return {
        "questions": questions,
        "modes": modes,
        "complete": all(m["n"] == questions for m in modes.values()),
        "question_set": {
            "path": meta.get("questions_path"),
            "format": qset.format,
            "loaded": len(qset.questions),
            "skipped_lines": qset.skipped_lines,
            "problems": qset.problems[:100],
            "answerable": sum(q.in_book is True for q in qset.questions),
            "not_in_book": sum(q.in_book is False for q in qset.questions),
        },
        "skipped_lines": qset.skipped_lines,
        "kb": meta.get("kb"),
        "limit": meta.get("limit"),
        "seed": meta.get("seed"),
        "resumed_results": meta.get("resumed_results", 0),
        "errors": meta.get("errors", []),
        "corrupt_result_lines": meta.get("corrupt_result_lines", 0),
        "set_aside_results": meta.get("set_aside_results", {}),
        "settings": meta.get("fingerprint"),
        "plots": dict(PLOTS),
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_report(report: dict, rows: dict[str, list[dict]], out_dir: str | Path) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    try:
        written = write_plots(report, rows, out)
    except ImportError:
        log.warning("matplotlib is not installed: the report has no plots")
        written = {}
    report["plots"] = written
    _atomic_text(out / "report.md", render_markdown(report, rows))
    _atomic_text(out / "report.json", json.dumps(report, indent=2, ensure_ascii=False))


def _atomic_text(path: Path, text: str) -> None:
    write_text_atomic(path, text)


# --- markdown ------------------------------------------------------------------------------------------------


def fmt(value, key: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}" if key.endswith("_s") else f"{100 * value:.1f}%"
    return str(value)


def render_markdown(report: dict, rows: dict[str, list[dict]]) -> str:
    modes = list(report["modes"])
    qs = report["question_set"]
    lines = [
        "# StudyBuddy factuality evaluation",
        "",
        f"- Questions: **{report['questions']}** from `{qs['path']}` ({qs['format']}; {qs['answerable']} answerable, "
        f"{qs['not_in_book']} not in the books in the whole set); skipped lines: **{report['skipped_lines']}**",
        f"- Knowledge base: library `{(report.get('kb') or {}).get('library')}` "
        f"({(report.get('kb') or {}).get('documents')} documents, {(report.get('kb') or {}).get('passages')} passages)",
        f"- Seed {report.get('seed')}, limit {report.get('limit')}; "
        f"{'complete' if report['complete'] else '**incomplete** (rerun the same command to finish)'}; "
        f"{report.get('resumed_results', 0)} results carried over from an earlier run"
        + "".join(f"; {n} earlier {m} results made with other settings were set aside and redone"
                  for m, n in sorted((report.get("set_aside_results") or {}).items())),
        "",
        "Definitions: see the docstring of `engine/evaluation/scoring.py`. Rates are over the mode's questions unless "
        "named otherwise; — means the metric does not apply.",
        "",
        "## Summary",
        "",
        "| metric | " + " | ".join(modes) + " |",
        "|---|" + "---|" * len(modes),
    ]
    for key in CONTRACT + ("no_answer_rate", "right_rate_answerable", "not_answering_rate_answerable", "wrong_rate_answerable"):
        lines.append(f"| {LABELS.get(key, key)} | " + " | ".join(fmt(report["modes"][m].get(key), key) for m in modes) + " |")
    if report.get("errors"):
        lines += ["", f"**{len(report['errors'])} result(s) failed** and will be retried on the next run:"]
        lines += [f"- `{e['id']}` ({e['mode']}): {e['error']}" for e in report["errors"][:10]]
    if qs["problems"]:
        lines += ["", "## Skipped lines", ""] + [f"- {p}" for p in qs["problems"][:20]]
        if len(qs["problems"]) > 20:
            lines.append(f"- … and {len(qs['problems']) - 20} more (see report.json)")
    for mode in modes:
        m = report["modes"][mode]
        lines += ["", f"## Mode `{mode}`", "", "| metric | value |", "|---|---|"]
        for key in CONTRACT + ("correct", "no_answer_rate", "abstain_rate", "answered_not_in_book"):
            lines.append(f"| {LABELS.get(key, key)} | {fmt(m.get(key), key)} |")
        lines.append("| verdicts | " + ", ".join(f"{k} {v}" for k, v in sorted(m["verdicts"].items())) + " |")
        if m["latency_by_stage"]:
            lines += ["", "| stage | p50 (s) | p95 (s) |", "|---|---|---|"]
            for stage, s in m["latency_by_stage"].items():
                lines.append(f"| {stage} | {fmt(s['p50_s'], '_s')} | {fmt(s['p95_s'], '_s')} |")
        worst = worst_examples(rows.get(mode, []))
        if worst:
            lines += ["", f"### Worst examples ({mode})", ""]
            for why, r in worst:
                lines += _example(why, r)
    if report.get("plots"):
        lines += ["", "## Plots", ""] + [f"![{name}]({file})" for name, file in report["plots"].items()]
    return "\n".join(lines) + "\n"


def worst_examples(rows: list[dict], limit: int = WORST_EXAMPLES) -> list[tuple[str, dict]]:
    """Wrong answers displayed as fact (most confident first), then misconceptions, then answers shown for
    not-in-book questions, then lost coverage."""
    buckets = [
        ("wrong, displayed as fact", [r for r in rows if r["displayed_as_fact"] and r["outcome"] == "wrong"]),
        ("repeats a misconception", [r for r in rows if r["misconception"] and not r["displayed_as_fact"]]),
        ("answered a not-in-book question", [r for r in rows if r.get("in_book") is False and r["shown"] and r["outcome"] != "wrong"]),
        ("wrong, flagged", [r for r in rows if r["flagged"] and r["outcome"] == "wrong" and not r["misconception"]]),
        ("abstained on an answerable question", [r for r in rows if r.get("in_book") is True and r["abstained"]]),
    ]
    out: list[tuple[str, dict]] = []
    for why, items in buckets:
        for r in sorted(items, key=lambda r: -(r.get("confidence") or 0.0)):
            if len(out) == limit:
                return out
            out.append((why, r))
    return out


def _one_line(text: str, n: int = 240) -> str:
    text = " ".join((text or "").split()).replace("|", "\\|")
    return text if len(text) <= n else text[: n - 1] + "…"


def _example(why: str, r: dict) -> list[str]:
    match = r.get("match") or {}
    asserted = match.get("choice") or match.get("reference")
    lines = [
        f"**{r['id']}** — {why}",
        "",
        f"- Question: {_one_line(r['question'])}",
        f"- Gold: {_one_line(r['gold_answer'])}" + (f" (choices: {', '.join(r['choices'])})" if r.get("choices") else ""),
        f"- Answer: {_one_line(r['answer'])}",
        f"- Verdict: {r.get('verdict') or ('abstained' if r['abstained'] else 'answered, unverified')}"
        + (f" (confidence {r['confidence']:.2f})" if r.get("confidence") is not None else "")
        + f"; outcome: {r['outcome'] or 'abstained'}"
        + (f"; asserts: {_one_line(asserted, 80)} (by {match.get('method')})" if asserted else ""),
    ]
    if r.get("gold_doc_ids"):
        lines.append(f"- Gold doc(s): {', '.join(r['gold_doc_ids'])}; retrieved top-5: {', '.join(r.get('retrieved_doc_ids') or []) or 'none'}")
    if r.get("claims"):
        lines += ["", "  | claim | verdict | score | evidence | correction |", "  |---|---|---|---|---|"]
        for c in r["claims"]:
            cite = c.get("citation") or {}
            evidence = f"{cite.get('doc_id', '')}: {_one_line(cite.get('text', ''), 100)}" if cite else "—"
            lines.append(
                f"  | {_one_line(c['text'], 120)} | {c['verdict']} | {c['score']:.2f} | {evidence} | {_one_line(c.get('correction') or '—', 100)} |"
            )
    lines.append("")
    return lines


# --- plots ---------------------------------------------------------------------------------------------------


def write_plots(report: dict, rows: dict[str, list[dict]], out: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(report["modes"])
    written: dict[str, str] = {}

    # verdict distribution per mode (stacked, as fractions of the mode's questions)
    fig, ax = plt.subplots(figsize=(7, 3.8))
    order = ["grounded", "corrected", "flagged", "answered", "abstained"]
    bottoms = [0.0] * len(modes)
    for verdict in order:
        values = [report["modes"][m]["verdicts"].get(verdict, 0) / max(report["modes"][m]["n"], 1) for m in modes]
        if not any(values):
            continue
        ax.bar(modes, values, bottom=bottoms, label=verdict, color=VERDICT_COLOURS[verdict])
        bottoms = [b + v for b, v in zip(bottoms, values)]
    ax.set_ylabel("fraction of questions")
    ax.set_ylim(0, 1)
    ax.set_title("Verdicts per mode")
    _legend(ax, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    _save(plt, fig, out, "verdicts", written)

    # accuracy vs coverage: one point per mode; for verified, the curve over confidence thresholds
    fig, ax = plt.subplots(figsize=(6, 4.2))
    markers = {"closed_book": "s", "rag": "o", "verified": "D", "cascade": "^"}
    for number, m in enumerate(modes):
        colour = f"C{number}"
        metrics = report["modes"][m]
        n = max(metrics["n"], 1)
        mode_rows = rows.get(m, [])
        if m in scoring.CHECKED_MODES:
            shown = sorted((r for r in mode_rows if r["shown"]), key=lambda r: -(r.get("confidence") or 0.0))
            xs, ys, correct = [], [], 0
            for i, r in enumerate(shown, start=1):
                correct += r["outcome"] == "correct"
                xs.append(i / n)
                ys.append(correct / i)
            if xs:
                ax.plot(xs, ys, "-", color=colour, alpha=0.5, label=f"{m} (confidence threshold sweep)")
        if metrics["accuracy_shown"] is not None:
            x, y = metrics["answered"] / n, metrics["accuracy_shown"]
            ax.plot([x], [y], markers.get(m, "o"), color=colour, markersize=11 - 2 * number, label=m)
            ax.annotate(m, (x, y), textcoords="offset points", xytext=(-8, 8 + 10 * number), ha="right", fontsize=8, color=colour)
    ax.set_xlabel("coverage (answers shown / questions)")
    ax.set_ylabel("accuracy of shown answers")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title("Accuracy vs coverage")
    _legend(ax, fontsize=8)
    _save(plt, fig, out, "accuracy_coverage", written)

    # latency: p50 per stage stacked, with the p95 of the total marked
    fig, ax = plt.subplots(figsize=(7, 3.8))
    stages: list[str] = []
    for m in modes:
        for s in report["modes"][m]["latency_by_stage"]:
            if s not in stages:
                stages.append(s)
    bottoms = [0.0] * len(modes)
    for s in stages:
        values = [(report["modes"][m]["latency_by_stage"].get(s) or {}).get("p50_s") or 0.0 for m in modes]
        ax.bar(modes, values, bottom=bottoms, label=f"{s} (p50)")
        bottoms = [b + v for b, v in zip(bottoms, values)]
    p95 = [report["modes"][m]["latency_p95_s"] or 0.0 for m in modes]
    ax.plot(modes, p95, "k_", markersize=30, markeredgewidth=2, label="total p95")
    ax.set_ylabel("seconds per question")
    ax.set_title("Latency per stage")
    _legend(ax, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    _save(plt, fig, out, "latency", written)
    return written


def _save(plt, fig, out: Path, key: str, written: dict[str, str]) -> None:
    fig.tight_layout()
    fig.savefig(out / PLOTS[key], dpi=110)
    plt.close(fig)
    written[key] = PLOTS[key]


def _legend(ax, **kwargs) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)
