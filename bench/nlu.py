"""Offline understanding figures: intent matching per example flow, and knowledge retrieval.

Intents (``flows/eval/*.nlu.yaml``): for each flow, the local provider's matcher now
(``runtime.providers.local.semantic``: WordLlama paired with a static model distilled from
all-MiniLM-L6-v2, built-in families, negation, word overlap, hubness-corrected nearest phrase
mixed with the intent's centroid, open intents and their words aligned, clauses scored apart,
exact rules) beside the provider before it (``semantic.FIFTH_PASS``: the same scoring the whole
turn alone, with no word alignment), its second pass
(``semantic.SECOND_PASS``: WordLlama alone, threshold 0.30) and the rules alone as they were
before any model (``runtime.providers.local.scoring.choose``), on the same utterances in the
same run:
  top-1       the best-scored intent is the expected one (paraphrase set)
  decided     the decision is the expected intent (above the threshold, not a clarify)
  clarify     asked which of two intents was meant (semantic only)
  unrelated   share of the unrelated utterances decided no-match
  precision   of every utterance decided no-match, the share that was unrelated
  latency     time of one decision (embedding + scoring), p50 / p99 over every utterance of
              the flow, repeated ``--repeat`` times, examples already embedded: wall time
              (inflated when other processes take the core) and the thread's CPU time

Knowledge (``flows/knowledge/acme_help/`` and ``flows/eval/acme_help.questions.yaml``):
recall@3 (the expected document among the first three passages) of the lexical hashing
embedding (the offline default before), PostgreSQL full-text search alone, the wordllama
embedding alone, and hybrid (wordllama + full-text, relative score fusion), on an embedded
PostgreSQL with pgvector (``--no-db`` skips it); and the in-memory knowledge base of the chat,
the conversation tests and the studio: its former word overlap, its word ranking now, hybrid.

The matcher's constants were chosen on a separate tuning set, ``bench/nlu_dev/`` (``--dev``
prints its figures too; ``--tuning-only`` prints nothing else, and ``--misses`` lists its wrong
decisions), never on ``flows/eval/``, whose misses this script does not print.

Usage: .venv/bin/python bench/nlu.py [--repeat 20] [--no-db] [--dev | --tuning-only] [--misses]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from runtime.db.knowledge import (
    HashingEmbedder,
    PgKnowledgeBase,
    WordLlamaEmbedder,
    add_document,
    chunk_text,
)
from runtime.knowledge import InMemoryKnowledgeBase, KnowledgeBase, Passage
from runtime.providers.local.evalset import NO_MATCH, EvalSet, load_all
from runtime.providers.local.model import default_embedder, intent_embedder
from runtime.providers.local.scoring import choose, rank
from runtime.providers.local.semantic import FIFTH_PASS, SECOND_PASS, IntentMatcher, Tuning

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "flows" / "eval"
DEV = ROOT / "bench" / "nlu_dev"
"""The tuning set: the matcher's constants were chosen on it, never on ``EVAL``."""


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "-"


def _decision(matcher: IntentMatcher, case) -> tuple[str, str]:
    """The best-scored intent and the decision (an intent, ``clarify`` or ``no_match``)."""
    d = matcher.decide(case.text, case.intents)
    decided = d.winner.intent if d.winner else ("clarify" if d.clarify else NO_MATCH)
    return d.scores[0].intent, decided


def intent_figures(sets: list[EvalSet], matcher: IntentMatcher, repeat: int) -> None:
    """Per flow: the rules, the second pass (WordLlama alone), the provider before this
    session (``FIFTH_PASS``: the whole turn alone) and the matcher now, same run; then the
    totals."""
    wordllama = default_embedder()
    passes = {
        "second": IntentMatcher(wordllama, SECOND_PASS),
        "before": IntentMatcher(tuning=FIFTH_PASS),
        "now": matcher,
    }
    header = (
        "| flow | paraphrases | top-1 rules | top-1 second pass | top-1 before | top-1 now"
        " | decided before | decided now | clarify now | unrelated | no-match before"
        " | no-match now | precision before | precision now | before p99 CPU"
        " | now p50 / p99 | now p99 CPU |"
    )
    print(header)
    print("|" + " --- |" * (header.count("|") - 1))
    keys = ("rules", *passes)
    total = {k: dict.fromkeys(keys, 0) for k in ("top", "dec", "nm", "n", "u")}
    for s in sets:
        para, unrel = s.paraphrases, s.unrelated
        top = dict.fromkeys(keys, 0)
        dec = dict.fromkeys(keys, 0)
        nm_hits = dict.fromkeys(keys, 0)
        nm_all = dict.fromkeys(keys, 0)
        clar = 0
        for case in s.cases:
            ranked = rank(case.text, case.intents)
            winner, _ = choose(case.text, case.intents)
            got = {
                "rules": (
                    ranked[0].intent if ranked and ranked[0].score > 0 else "",
                    winner.intent if winner is not None else NO_MATCH,
                ),
                **{key: _decision(m, case) for key, m in passes.items()},
            }
            for key, (best, decided) in got.items():
                if case.expected == NO_MATCH:
                    nm_hits[key] += decided == NO_MATCH
                else:
                    top[key] += best == case.expected
                    dec[key] += decided == case.expected
                nm_all[key] += decided == NO_MATCH
            clar += case.expected != NO_MATCH and got["now"][1] == "clarify"
        sem_wall, sem_cpu = _timings(lambda c: matcher.decide(c.text, c.intents), s, repeat)
        _, before_cpu = _timings(lambda c: passes["before"].decide(c.text, c.intents), s, repeat)
        n, u = len(para), len(unrel)
        for key in keys:
            total["top"][key] += top[key]
            total["dec"][key] += dec[key]
            total["nm"][key] += nm_hits[key]
        total["n"]["now"] += n
        total["u"]["now"] += u
        print(
            f"| {s.name} | {n} | {_pct(top['rules'], n)} | {_pct(top['second'], n)}"
            f" | {_pct(top['before'], n)} | **{_pct(top['now'], n)}**"
            f" | {_pct(dec['before'], n)} | {_pct(dec['now'], n)} | {clar} | {u}"
            f" | {_pct(nm_hits['before'], u)} | **{_pct(nm_hits['now'], u)}**"
            f" | {_pct(nm_hits['before'], nm_all['before'])}"
            f" | {_pct(nm_hits['now'], nm_all['now'])}"
            f" | {_ms(before_cpu, 99)} | {_ms(sem_wall, 50)} / {_ms(sem_wall, 99)}"
            f" | **{_ms(sem_cpu, 99)}** |"
        )
    n, u = total["n"]["now"], total["u"]["now"]
    print(
        f"all: top-1 rules {total['top']['rules']}/{n}, second pass {total['top']['second']},"
        f" before {total['top']['before']}, now {total['top']['now']}; decided before"
        f" {total['dec']['before']}, now {total['dec']['now']}; unrelated no-match before"
        f" {total['nm']['before']}/{u}, now {total['nm']['now']}/{u}"
    )


def index_cost(sets: list[EvalSet]) -> None:
    """Time to build every intent set's phrase index (embedding, links, hubness, centroids),
    on fresh matchers: before (the whole turn alone) and now."""
    keys = {tuple(c.intents) for s in sets for c in s.cases}
    for label, tuning in (("before", FIFTH_PASS), ("now", Tuning())):
        m = IntentMatcher(tuning=tuning)
        m._families()  # the family phrases are embedded once per process, not per flow
        t0 = time.perf_counter()
        for intents in keys:
            m._phrases(intents)
        ms = (time.perf_counter() - t0) * 1e3
        print(f"phrase index of {len(keys)} intent sets, {label}: {ms:.0f} ms")


def _timings(decide, s: EvalSet, repeat: int) -> tuple[list[float], list[float]]:
    """Wall and thread-CPU seconds of each decision, sorted."""
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(repeat):
        for case in s.cases:
            w0, c0 = time.perf_counter(), time.thread_time()
            decide(case)
            cpu.append(time.thread_time() - c0)
            wall.append(time.perf_counter() - w0)
    return sorted(wall), sorted(cpu)


def _ms(sorted_times: list[float], percentile: int) -> str:
    if percentile == 50:
        return f"{statistics.median(sorted_times) * 1e3:.3f} ms"
    index = min(len(sorted_times) - 1, int(percentile / 100 * len(sorted_times)))
    return f"{sorted_times[index] * 1e3:.3f} ms"


def misses(sets: list[EvalSet], matcher: IntentMatcher) -> None:
    """Every utterance the semantic matcher decides wrongly, with its two best scores (the
    tuning set's only: the evaluation sets' misses are not printed, so that nothing is chosen
    from them)."""
    for s in sets:
        for case in s.cases:
            d = matcher.decide(case.text, case.intents)
            got = d.winner.intent if d.winner else ("clarify" if d.clarify else NO_MATCH)
            if got != case.expected:
                top = ", ".join(f"{x.intent}={x.score:.2f}" for x in d.scores[:2])
                print(
                    f"  {s.name}/{case.node}: {case.text!r} expected {case.expected}, got {got} ({top})"
                )


QUESTIONS = EVAL / "acme_help.questions.yaml"


def _questions() -> tuple[str, Path, list[tuple[str, str]]]:
    spec = yaml.safe_load(QUESTIONS.read_text())
    folder = (QUESTIONS.parent / spec["documents"]).resolve()
    return spec["collection"], folder, [(q["q"], q["doc"]) for q in spec["questions"]]


def _documents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.glob("*.md")) if p.name != "README.md"}


async def _recall(
    kb: KnowledgeBase, collection: str, questions: list[tuple[str, str]], doc_of
) -> tuple[int, float]:
    """Questions whose document is among the first three passages, and p50 search time."""
    hits = 0
    times = []
    for q, doc in questions:
        t0 = time.perf_counter()
        passages = await kb.search(collection, q, 3)
        times.append(time.perf_counter() - t0)
        hits += doc in {doc_of(p) for p in passages}
    return hits, statistics.median(times) * 1e3


def _knowledge_row(name: str, hits: int, total: int, p50: float, base: int | None) -> None:
    versus = " | (the baseline)" if base is None else f" | {_pct(base, total)}"
    print(f"| {name} | {hits}/{total} = {_pct(hits, total)}{versus} | {p50:.2f} ms |")


async def memory_knowledge_figures() -> None:
    """``InMemoryKnowledgeBase`` (chat, tests, studio): word overlap alone vs hybrid."""
    collection, folder, questions = _questions()
    chunks: list[str] = []
    owner: list[str] = []
    for name, text in _documents(folder).items():
        for chunk in chunk_text(text):
            chunks.append(chunk)
            owner.append(name)

    def doc_of(p) -> str:
        return owner[int(p.source.rsplit("#", 1)[1])]

    before = _WordOverlapBefore({collection: chunks})
    words_only = InMemoryKnowledgeBase({collection: chunks}, semantic=False)
    hybrid = InMemoryKnowledgeBase({collection: chunks})
    base, base_p50 = await _recall(before, collection, questions, doc_of)
    print(f"\nknowledge, in memory ({len(questions)} questions, {len(chunks)} chunks), recall@3:")
    print("| ranking | recall@3 | word overlap (before), same run | p50 search |")
    print("| --- | --- | --- | --- |")
    _knowledge_row("word overlap (before)", base, len(questions), base_p50, None)
    for label, kb in (("content words now", words_only), ("hybrid: wordllama + words", hybrid)):
        hits, p50 = await _recall(kb, collection, questions, doc_of)
        _knowledge_row(label, hits, len(questions), p50, base)


class _WordOverlapBefore:
    """``InMemoryKnowledgeBase`` as it was before: the share of the query's words (stop words
    included) each passage contains."""

    def __init__(self, collections: dict[str, list[str]]) -> None:
        self._collections = collections

    async def search(self, collection: str, query: str, top_k: int) -> list[Passage]:
        words = set(re.findall(r"[a-z0-9]+", query.lower()))
        scored = []
        for i, text in enumerate(self._collections.get(collection, [])):
            share = len(words & set(re.findall(r"[a-z0-9]+", text.lower()))) / max(len(words), 1)
            if share > 0:
                scored.append(Passage(text=text, score=share, source=f"{collection}#{i}"))
        scored.sort(key=lambda p: -p.score)
        return scored[:top_k]


def knowledge_figures() -> None:
    """``PgKnowledgeBase`` on an embedded PostgreSQL with pgvector."""
    from runtime.db import create_pool, migrate
    from runtime.db.pool import connect
    from runtime.dev.postgres import start_embedded

    root = Path(tempfile.mkdtemp(prefix="voxflow-nlu-"))
    pg = start_embedded(root / "pg")
    try:
        asyncio.run(_pg_figures(pg.url, migrate, connect, create_pool))
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


async def _pg_figures(url: str, migrate, connect, create_pool) -> None:
    collection, folder, questions = _questions()
    conn = await connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    pool = await create_pool(url, max_size=2)
    try:
        hashing, wordllama = HashingEmbedder(), WordLlamaEmbedder()
        for embedder, name in ((hashing, f"{collection}-hash"), (wordllama, collection)):
            for source, text in _documents(folder).items():
                await add_document(pool, embedder, name, text, source=source)
        chunks = await pool.fetchval(
            "SELECT count(*) FROM knowledge_chunks WHERE collection = $1", collection
        )

        def doc_of(p) -> str:
            return p.source

        runs = [
            (
                "hashing embedding (lexical, the offline default before)",
                hashing,
                "semantic",
                f"{collection}-hash",
            ),
            ("full-text search alone", wordllama, "lexical", collection),
            ("wordllama embedding alone (semantic)", wordllama, "semantic", collection),
            ("hybrid: wordllama + full-text search", wordllama, "hybrid", collection),
        ]
        print(f"\nknowledge, PostgreSQL + pgvector ({len(questions)} questions, {chunks} chunks):")
        print("| ranking | recall@3 | hashing (before), same run | p50 search |")
        print("| --- | --- | --- | --- |")
        base = None
        for label, embedder, mode, coll in runs:
            kb = PgKnowledgeBase(pool, embedder, mode=mode)
            hits, p50 = await _recall(kb, coll, questions, doc_of)
            _knowledge_row(label, hits, len(questions), p50, base)
            base = hits if base is None else base
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-db", action="store_true", help="skip the knowledge figures")
    parser.add_argument(
        "--misses", action="store_true", help="list the tuning set's wrong decisions"
    )
    parser.add_argument("--dev", action="store_true", help="also the tuning set (bench/nlu_dev/)")
    parser.add_argument(
        "--tuning-only",
        action="store_true",
        help="the tuning set alone, no evaluation set, no knowledge figures (for choosing)",
    )
    args = parser.parse_args()
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs,"
        f" load average {os.getloadavg()[0]:.2f} at start"
    )
    t0 = time.perf_counter()
    default_embedder()
    print(f"model load: {(time.perf_counter() - t0) * 1e3:.0f} ms")
    t0 = time.perf_counter()
    intent_embedder()
    print(
        f"paired intent model load (distilled table built): {(time.perf_counter() - t0) * 1e3:.0f} ms"
    )
    matcher = IntentMatcher()
    dev = load_all(DEV)
    sets = [] if args.tuning_only else load_all(EVAL)
    index_cost(dev + sets)
    if sets:
        print("\nevaluation sets (flows/eval/, held out):")
        intent_figures(sets, matcher, args.repeat)
    if args.dev or args.tuning_only:
        print("\ntuning set (bench/nlu_dev/):")
        intent_figures(dev, matcher, args.repeat)
        if args.misses:
            misses(dev, matcher)
    if args.tuning_only:
        print(f"load average {os.getloadavg()[0]:.2f} at end")
        return
    asyncio.run(memory_knowledge_figures())
    if not args.no_db:
        knowledge_figures()
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
