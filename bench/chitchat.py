"""Small talk recognised offline: the local provider's detector beside an exact-phrase rule.

Small talk (``flows/eval/chitchat.yaml``, by topic, written unlike the detector's examples) and
the intent evaluation sets (``flows/eval/*.nlu.yaml``: answers and requests at their node) are
decided, in the same run, by two detectors under the provider's rule (small talk when no intent
is sure, i.e. exact or ``CONFIDENT``, and the detector's score reaches its threshold and beats
every open intent's score):

  semantic   ``runtime.providers.local.chitchat``: the best cosine similarity to an example
             (wordllama), threshold ``THRESHOLD``
  exact      the baseline: an example said as whole words inside the text (the ``contained``
             rule of ``scoring.score_phrase``, 0.9-1.0), threshold 0.9

Figures: recall (small talk recognised), topic (of those, the right topic), taken from intents
(paraphrases of an intent decided small talk: the flow loses a request), unrelated decided
small talk (utterances of the sets' ``no_match`` lists; some are small talk themselves, so
they are listed), and the time of one decision (p50 / p99, the examples already embedded).

Usage: .venv/bin/python bench/chitchat.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from runtime.providers.local.chitchat import EXAMPLES, THRESHOLD, ChitchatMatcher
from runtime.providers.local.evalset import NO_MATCH, load_all
from runtime.providers.local.model import default_embedder
from runtime.providers.local.scoring import score_phrase
from runtime.providers.local.semantic import CONFIDENT, IntentMatcher

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "flows" / "eval"
Detector = Callable[[str], tuple[str, float]]
"""Text -> (topic, score)."""


def exact(text: str) -> tuple[str, float]:
    best = ("other", 0.0)
    for topic, phrases in EXAMPLES.items():
        for phrase in phrases:
            value, rule = score_phrase(text, phrase)
            if rule == "contained" and value > best[1]:
                best = (topic, value)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs,"
        f" load average {os.getloadavg()[0]:.2f} at start"
    )
    intents = IntentMatcher()
    semantic_matcher = ChitchatMatcher(default_embedder)  # as the provider builds it

    def semantic(text: str) -> tuple[str, float]:
        found = semantic_matcher.best(text)
        return (found.topic, found.score) if found is not None else ("other", 0.0)

    detectors: dict[str, tuple[Detector, float]] = {
        "semantic": (semantic, THRESHOLD),
        "exact": (exact, 0.9),
    }
    small_talk = [
        (topic, text)
        for topic, texts in yaml.safe_load((EVAL / "chitchat.yaml").read_text()).items()
        for text in texts
    ]
    cases = [c for s in load_all(EVAL) for c in s.cases]
    # The best intent's score, or 2.0 (nothing beats it) when that intent is sure.
    best_intent = {(c.node, c.text): _best(intents, c) for c in cases}
    print(
        f"{len(small_talk)} small-talk utterances; {len(cases)} utterances of "
        f"{len(load_all(EVAL))} intent sets"
    )
    print()
    print(
        "| detector | recall | right topic | taken from intents | unrelated decided small talk"
        " | p50 / p99 per decision |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    listed: list[str] = []
    for name, (detect, threshold) in detectors.items():
        hits = right = 0
        for topic, text in small_talk:
            got, score = detect(text)
            if score >= threshold:
                hits += 1
                right += got == topic
        taken = unrelated = 0
        paraphrases = [c for c in cases if c.expected != NO_MATCH]
        others = [c for c in cases if c.expected == NO_MATCH]
        for c in cases:
            _, score = detect(c.text)
            fires = score >= threshold and score > best_intent[(c.node, c.text)]
            if fires and c.expected != NO_MATCH:
                taken += 1
                listed.append(f"  {name}: {c.text!r} (expected {c.expected})")
            elif fires:
                unrelated += 1
                listed.append(f"  {name}: {c.text!r} (unrelated)")
        times = _timings(detect, [t for _, t in small_talk] + [c.text for c in cases], args.repeat)
        print(
            f"| {name} | {_pct(hits, len(small_talk))} | {_pct(right, hits)}"
            f" | {taken} of {len(paraphrases)} | {unrelated} of {len(others)}"
            f" | {_ms(times, 50)} / {_ms(times, 99)} |"
        )
    print()
    print("decided small talk among the intent sets' utterances:")
    print("\n".join(listed) or "  none")
    print(f"load average {os.getloadavg()[0]:.2f} at end")


def _best(matcher: IntentMatcher, case) -> float:
    decision = matcher.decide(case.text, case.intents)
    winner = decision.winner
    if winner is not None and (decision.exact or winner.score >= CONFIDENT):
        return 2.0
    return decision.scores[0].score if decision.scores else 0.0


def _timings(detect: Detector, texts: list[str], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        for text in texts:
            t0 = time.perf_counter()
            detect(text)
            out.append(time.perf_counter() - t0)
    return sorted(out)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "-"


def _ms(sorted_times: list[float], percentile: int) -> str:
    if percentile == 50:
        return f"{statistics.median(sorted_times) * 1e3:.3f} ms"
    index = min(len(sorted_times) - 1, int(percentile / 100 * len(sorted_times)))
    return f"{sorted_times[index] * 1e3:.3f} ms"


if __name__ == "__main__":
    main()
