"""Semantic intent matching for the local provider: meaning (nearest phrase, centroid) and rules.

Each intent's phrases (its examples and its description, plus the phrases of the built-in
family it is linked to: ``families.py``) are embedded once with the offline models
(``model.intent_embedder``: WordLlama and a table distilled from all-MiniLM-L6-v2, a
similarity being the mean of the two; the matrix of an intent set is cached, so a compiled
flow's examples are embedded once per process). A caller's text is embedded (tens of
microseconds) and scored against every intent open at the node, the node's and the global
ones.

**Families.** An intent is linked to the family its examples and description say best
(``IntentMatcher.links``: mean best similarity at least ``LINK``, and no other open intent
closer to that family); the family's phrases then count as its examples at ``FAMILY_WEIGHT``.

**The combination rule.** An intent's score is the larger of

* its **semantic** score, ``(1 - CENTROID) * nearest + CENTROID * centroid``, where
  * *nearest* is the best similarity between the text and one of its phrases: the cosine
    (family phrases times ``FAMILY_WEIGHT``), times ``NEGATION_PENALTY`` when exactly one of
    the two is negated (``negated``: "I won't pay" against "I'll pay"; a mean of token vectors
    barely tells them apart), minus the phrase's **hubness** (``index.py``: how close the
    phrase is to common caller wordings no intent of the set owns, centred on the set's mean,
    times ``HUBNESS``), plus ``OVERLAP`` times the word-overlap score of its own examples
    (``scoring``: the content words the text shares with one of them, with the same negation
    penalty) and, for an open intent (below), ``OPEN_ALIGNMENT`` times its weighted word
    alignment (``align.py``: the text's words matched to an example's by their vectors, rare
    words counting more), a sum these never lift past 0.9, where an example said as is starts;
  * *centroid* is the cosine between the text and the mean of the intent's own examples and
    description (``index.centroids``: negated and other phrases apart, with the same negation
    penalty);
  * an **open** intent (``free_text``: it takes a ``str`` parameter, and the mean similarity
    between two of its examples is below ``OPEN_SPREAD``, so they illustrate an answer in the
    caller's own words rather than list the ways to say one thing, like nps's reason for a
    score) gets ``OPEN_BONUS`` added, and no negation penalty: a true answer is far from each
    of a few diverse examples, and may be said either way ("nobody fixed my problem");
* its **exact** rule score (``scoring.score_phrase``), counted only where the rule is exact:
  ``contained`` (one of its own examples said as whole words, 0.9-1.0), except a bare yes/no
  phrase (``"no"`` inside ``"yep, no problem"`` is not an answer), which counts only through
  ``polarity`` (0.8): the text is a short answer (at most ``SHORT_ANSWER`` content words, so
  ``"never call this number again"`` is not a bare "no") that starts with a yes/no word,
  hesitations (``FILLERS``: "uh", "um") aside.

**Clauses.** A turn that says two things ("I won't make it, can we find another day") is also
scored clause by clause (``clauses.split``: at most ``CLAUSES``; a short answer never splits):
each clause gets the semantic score above on its own, its own negation included, and an
intent keeps the better of the whole turn's and, ``CLAUSE_DISCOUNT`` lower, a clause's. The
exact rules read the whole turn. ``Score.detail`` names the clause that decided.

Then, best score first:

1. below ``THRESHOLD``: no match (the provider re-prompts as the flow says);
2. within ``MARGIN`` of a different intent's score (unless the best is exact and the other
   only semantic): **clarify**: the provider asks which of the two the caller meant instead of
   guessing (once; asked again, it is no match);
3. otherwise the best intent.

``IntentMatcher.request`` says whether a text is an explicit request (opt-out, callback, a
person: the families marked ``request``), judged on its words other than dates, times and
numbers; the provider never reads such a text as a slot value.

DTMF, slot values and ``when`` conditions never go through here: the engine and
``slots.read_slot`` decide them by rule. The constants were chosen on the tuning set
``bench/nlu_dev/``; ``bench/nlu.py`` measures them on the held-out sets in ``flows/eval/``.
The same text always gets the same decision (no sampling, no state).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dsl.ir import IntentTransition
from runtime.providers.local import align
from runtime.providers.local.chitchat import EXAMPLES as SMALL_TALK
from runtime.providers.local.clauses import combine, split
from runtime.providers.local.families import FAMILIES, Family
from runtime.providers.local.index import PhraseIndex, centroids, hubness, spreads
from runtime.providers.local.model import Embedder, intent_embedder
from runtime.providers.local.scoring import Score, words
from runtime.providers.local.wording import (
    NEGATIONS,
    NUMBER,
    VALUE_WORDS,
    exact,
    free_text,
    negated,
    overlap,
    short_answer,
)

THRESHOLD = 0.4
"""Below this best score the text matches no intent. With WordLlama alone it was 0.30; the
paired model (``model.intent_embedder``) scores unrelated text higher, and 0.40 is where the
tuning set's 57 unrelated utterances are no-match as often as with WordLlama at 0.30 (55)."""
MARGIN = 0.03
"""Two different intents closer than this are a toss-up: ask, do not guess."""
CONFIDENT = 0.55
"""A semantic score this high is a clear paraphrase: it wins over slot filling and tools (0.5
with WordLlama alone; the paired model scores a little higher: "call me back tomorrow at 10am"
is 0.51 like "do not call me again", where it was 0.48)."""
LINK = 0.5
"""The least affinity between an intent's examples and a family for the two to be linked."""
FAMILY_WEIGHT = 0.9
"""A family phrase's similarity counts at this share: the flow's own examples come first."""
NEGATION_PENALTY = 0.75
"""A phrase whose negation disagrees with the text's ("I won't pay" / "I'll pay") counts this much."""
OVERLAP = 0.5
"""The share of the word-overlap rule (``scoring``: Dice over content words, own examples and
description) added to an intent's semantic score."""
HUBNESS = 0.6
"""The weight of a phrase's hubness (``index.py``), centred on its intent set's mean, subtracted
from its similarity. Chosen on the tuning set with ``CENTROID`` (0.5-0.75 and 3-5 neighbours
gave within one point of each other; ``bench/README.md``, fourth session)."""
NEIGHBOURS = 5
"""How many of a phrase's nearest background wordings make its hubness."""
CENTROID = 0.2
"""The share of the intent's centroid similarity in its semantic score (0.2-0.3 alike)."""
OPEN_SPREAD = 0.2
"""An intent that takes a free-text (``str``) parameter is *open* when the mean similarity
between two of its examples is below this: its examples illustrate an answer in the caller's
own words ("the outages", "it's too slow") rather than list the ways to say one thing. The
example flows' open intents are at 0.12-0.14, their other intents at 0.17-0.60 (the free-text
``question`` of the receptionist at 0.28); the tuning set gives the same figures at 0.3."""
OPEN_BONUS = 0.06
"""Added to an open intent's semantic score (chosen on the tuning set, 0.04-0.18 tried:
``bench/README.md``, fifth session). A true answer sits far from every one of a few diverse
examples; 0.08 and more took unrelated remarks ("the kids are fighting upstairs") as answers."""
CLAUSES = 3
"""At most this many clauses of a turn are scored besides the whole turn (``clauses.py``); 1
scores the whole turn alone, as before the seventh session (2-4 gave the same figures)."""
CLAUSE_DISCOUNT = 0.07
"""What a clause's semantic score counts less than the whole turn's (0.05-0.10 gave the same
figures on both halves of the tuning set and on the clause set; 0 and 0.03 took unrelated
remarks by a short clause, 0.12 and more lost requests: ``bench/README.md``, seventh session)."""

ALIGNMENT = 0.0
"""The share of the weighted word alignment (``align.py``: own examples and description, the
text's words aligned to the phrase's by their vectors, weighted by rarity) added to an intent's
semantic score, beside ``OVERLAP``'s Dice; 0 leaves it out."""
OPEN_ALIGNMENT = 0.15
"""The same share for an open intent (``OPEN_SPREAD``), whose few examples name topics ("the
price", "the staff") that an answer says in its own words ("cheaper bills"). Chosen on the
tuning set: 0.1-0.25 at floors 0.1-0.3 all helped both halves; on every intent (``ALIGNMENT``)
or at 0.5 it let unrelated text through (``bench/README.md``, seventh session)."""
ALIGN_FLOOR = 0.2
"""Two words' cosine counts in the alignment only above this (``align.f_scores``): two
unrelated words of the static models are still 0.0-0.2 alike."""
KINDS = 0.4
"""How much the request classifier's disagreement (``kinds.py``) lowers an intent's semantic
score; 0 leaves the classifier out. Chosen on the tuning set (0.2-0.6 alike; seventh session,
``bench/README.md``)."""


@dataclass(frozen=True)
class Tuning:
    """The matcher's constants, in one place; the defaults are the module's (chosen on the
    tuning set ``bench/nlu_dev/``). ``bench/nlu.py`` builds the matchers of the earlier passes
    (``FIRST_PASS``, ``SECOND_PASS``, both over WordLlama alone) from the same code."""

    threshold: float = THRESHOLD
    margin: float = MARGIN
    families: bool = True
    link: float = LINK
    family_weight: float = FAMILY_WEIGHT
    negation_penalty: float = NEGATION_PENALTY
    overlap: float = OVERLAP
    hubness: float = HUBNESS
    neighbours: int = NEIGHBOURS
    centroid: float = CENTROID
    open_spread: float = OPEN_SPREAD
    open_bonus: float = OPEN_BONUS
    clauses: int = CLAUSES
    clause_discount: float = CLAUSE_DISCOUNT
    alignment: float = ALIGNMENT
    open_alignment: float = OPEN_ALIGNMENT
    align_floor: float = ALIGN_FLOOR
    kinds: float = KINDS


FIRST_PASS = Tuning(
    threshold=0.22,
    families=False,
    negation_penalty=1.0,
    overlap=0.0,
    hubness=0.0,
    centroid=0.0,
    open_spread=0.0,
    clauses=1,
    kinds=0.0,
)
"""The matcher of the first pass: nearest own example or description, threshold 0.22."""
SECOND_PASS = Tuning(
    threshold=0.30, hubness=0.0, centroid=0.0, open_spread=0.0, clauses=1, kinds=0.0
)
"""The matcher of the second pass, with WordLlama alone (``model.default_embedder``): families,
negation and shared words, threshold 0.30."""
THIRD_PASS = Tuning(hubness=0.0, centroid=0.0, open_spread=0.0, clauses=1, kinds=0.0)
"""The matcher of the third pass (over the paired model): the nearest phrase alone, no
hubness, no centroid."""
FOURTH_PASS = Tuning(open_spread=0.0, clauses=1, kinds=0.0)
"""The matcher of the fourth pass: hubness and centroids, no open intents."""
FIFTH_PASS = Tuning(clauses=1, open_alignment=0.0, kinds=0.0)
"""The matcher of the fifth and sixth sessions: open intents, the whole turn alone, no word
alignment, no request classifier."""
_CACHE_SIZE = 512


@dataclass(frozen=True)
class Decision:
    """What the matcher made of one text at one node."""

    scores: tuple[Score, ...]
    """Every open intent's score, best first."""
    winner: Score | None = None
    clarify: tuple[Score, Score] | None = None
    """The two intents to ask about, when they are too close to choose."""

    @property
    def exact(self) -> bool:
        return self.winner is not None and self.winner.rule != "semantic"

    def explain(self, limit: int = 4) -> str:
        shown = ", ".join(s.explain() for s in self.scores[:limit]) or "no intents"
        return f"scores: {shown}"


class IntentMatcher:
    """Scores text against intents by the combination rule in the module docstring."""

    def __init__(self, embedder: Embedder | None = None, tuning: Tuning = Tuning()) -> None:
        self._embedder = embedder
        self.tuning = tuning
        self._index: OrderedDict[tuple, PhraseIndex]
        self._index = OrderedDict()
        self._lock = threading.Lock()
        self._family_matrix: tuple[np.ndarray, tuple[int, ...], np.ndarray] | None = None
        self._background: tuple[np.ndarray, np.ndarray] | None = None
        self._links: dict[tuple, dict[str, Family]] = {}
        self._words: align.WordVectors | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = intent_embedder()
        return self._embedder

    def _families(self) -> tuple[np.ndarray, tuple[int, ...], np.ndarray]:
        """The matrix of every family phrase (embedded once), each row's family index and
        whether the phrase is negated."""
        if self._family_matrix is None:
            phrases = [p for f in FAMILIES for p in f.phrases]
            owners = tuple(n for n, f in enumerate(FAMILIES) for _ in f.phrases)
            negations = np.asarray([negated(p) for p in phrases], dtype=bool)
            self._family_matrix = (self.embedder.embed(phrases), owners, negations)
        return self._family_matrix

    def _common_wordings(self) -> tuple[np.ndarray, np.ndarray]:
        """The background of hubness: every family phrase and small-talk example (embedded
        once), and the family index of each row (-1 for small talk)."""
        if self._background is None:
            families, owners, _ = self._families()
            talk = [p for phrases in SMALL_TALK.values() for p in phrases]
            matrix = np.concatenate([families, self.embedder.embed(talk)], axis=0)
            family_of = np.asarray([*owners, *(-1 for _ in talk)], dtype=np.int64)
            self._background = (matrix, family_of)
        return self._background

    def links(self, intents: Sequence[IntentTransition]) -> dict[str, Family]:
        """The family each intent is linked to (intents no family fits are absent).

        An intent's affinity to a family is the mean, over the intent's examples and
        description, of each one's best similarity to a phrase of the family. The intent is
        linked to its best family when the affinity reaches ``LINK`` and no other intent of the
        set has a higher affinity to that family (two intents never share one).
        """
        key = tuple((i.name, i.description, i.examples) for i in intents)
        with self._lock:
            hit = self._links.get(key)
        if hit is not None:
            return hit
        matrix, owners, _ = self._families()
        fam_owner = np.asarray(owners)
        affinity = np.zeros((len(intents), len(FAMILIES)), dtype=np.float32)
        for n, intent in enumerate(intents):
            own = [p for p in (*intent.examples, intent.description) if p.strip()]
            if own:
                sims = self.embedder.embed(own) @ matrix.T
                for f in range(len(FAMILIES)):
                    affinity[n, f] = sims[:, fam_owner == f].max(axis=1).mean()
        best: dict[int, tuple[float, int]] = {}
        for n in range(len(intents)):
            f = int(np.argmax(affinity[n]))
            if affinity[n, f] >= self.tuning.link:
                best[n] = (float(affinity[n, f]), f)
        links: dict[str, Family] = {}
        for n, (a, f) in best.items():
            if all(a > b for m, (b, g) in best.items() if g == f and m != n):
                links[intents[n].name] = FAMILIES[f]
        with self._lock:
            self._links[key] = links
            while len(self._links) > _CACHE_SIZE:
                self._links.pop(next(iter(self._links)))
        return links

    def request(self, text: str) -> Score | None:
        """The explicit request (a family marked ``request``: opt-out, callback, a person) that
        ``text`` makes, if any: its words other than dates, times and numbers (``VALUE_WORDS``)
        score at least ``CONFIDENT`` against one of the family's phrases. "call me back
        tomorrow at 10pm" is a callback request; "tomorrow at 10pm" alone is a value. The
        result's ``intent`` is the family's name, its ``phrase`` the words judged."""
        rest = " ".join(w for w in words(text) if w not in VALUE_WORDS and not NUMBER.fullmatch(w))
        if not rest:
            return None
        matrix, owners, negations = self._families()
        sims = matrix @ self.embedder.embed_one(rest)
        penalty = self.tuning.negation_penalty
        sims = np.where(negations != negated(rest), sims * penalty, sims)
        best: Score | None = None
        for sim, f in zip(sims.tolist(), owners, strict=True):
            family = FAMILIES[f]
            if family.request and sim >= CONFIDENT and (best is None or sim > best.score):
                best = Score(family.name, round(sim, 4), "request", rest)
        return best

    def is_about(self, text: str, family: str) -> bool:
        """Whether ``text`` (a slot's name and description) is about the request ``family``:
        its best similarity to one of the family's phrases reaches ``CONFIDENT``. A slot "When
        to call the caller back" is about a callback; "The caller's date of birth" is not."""
        matrix, owners, _ = self._families()
        rows = [n for n, f in enumerate(owners) if FAMILIES[f].name == family]
        if not rows or not text.strip():
            return False
        return float((matrix[rows] @ self.embedder.embed_one(text)).max()) >= CONFIDENT

    def _word_vectors(self) -> align.WordVectors:
        if self._words is None:
            self._words = align.WordVectors(self.embedder)
        return self._words

    def _align_share(self, is_open: bool) -> float:
        return self.tuning.open_alignment if is_open else self.tuning.alignment

    def _phrases(self, intents: Sequence[IntentTransition]) -> PhraseIndex:
        """The phrase index of an intent set (cached): its phrases, their intent index and
        weight (1 for the intent's own examples and description, ``FAMILY_WEIGHT`` for the
        phrases of its linked family), their hubness offsets, the intents' centroids and which
        intents are open."""
        key = tuple(
            (i.name, i.description, i.examples, tuple(p.type for p in i.params)) for i in intents
        )
        with self._lock:
            hit = self._index.get(key)
            if hit is not None:
                self._index.move_to_end(key)
                return hit
        links = self.links(intents) if self.tuning.families else {}
        texts: list[str] = []
        phrases: list[str] = []  # what explanations show: a family phrase prefixed with its name
        owners: list[int] = []
        weights: list[float] = []
        examples: list[bool] = []
        own: list[bool] = []
        for n, intent in enumerate(intents):
            for k, phrase in enumerate((*intent.examples, intent.description)):
                if phrase.strip():
                    texts.append(phrase)
                    phrases.append(phrase)
                    owners.append(n)
                    weights.append(1.0)
                    examples.append(k < len(intent.examples))
                    own.append(True)
            family = links.get(intent.name)
            for phrase in family.phrases if family is not None else ():
                texts.append(phrase)
                phrases.append(f"{family.name}: {phrase}")
                owners.append(n)
                weights.append(self.tuning.family_weight)
                examples.append(False)
                own.append(False)
        matrix = self.embedder.embed(texts)
        owner = np.asarray(owners, dtype=np.int64)
        weight = np.asarray(weights, dtype=np.float32)
        negations = np.asarray([negated(t) for t in texts], dtype=bool)
        offsets = np.zeros(len(texts), dtype=np.float32)
        if self.tuning.hubness and texts:
            background, family_of = self._common_wordings()
            # A phrase's own family is no background to it: its intent owns those wordings.
            own_family = np.asarray(
                [
                    FAMILIES.index(links[i.name]) if i.name in links else -2
                    for i in (intents[n] for n in owners)
                ],
                dtype=np.int64,
            )
            excluded = family_of[None, :] == own_family[:, None]
            hub = hubness(matrix, background, excluded, self.tuning.neighbours)
            offsets = (self.tuning.hubness * (hub - hub.mean())).astype(np.float32)
        cents, cent_owners, cent_negations = centroids(
            matrix, owner, weight >= 1.0, negations, len(intents)
        )
        spread = spreads(matrix, owner, np.asarray(examples, dtype=bool), len(intents))
        is_open = np.asarray(
            [free_text(i) and spread[n] < self.tuning.open_spread for n, i in enumerate(intents)],
            dtype=bool,
        )
        shares = [self._align_share(bool(o)) for o in is_open]
        aligned = None
        if any(shares):
            rows = [k for k, mine in enumerate(own) if mine]
            aligned = align.of_intent_set(
                self._word_vectors(),
                [(texts[k], owners[k], bool(negations[k])) for k in rows],
                [s > 0 for s in shares],
                NEGATIONS,
            )
        entry = PhraseIndex(
            matrix,
            tuple(phrases),
            tuple(owners),
            weight,
            negations,
            offsets,
            cents,
            cent_owners,
            cent_negations,
            is_open,
            aligned,
            self._profiles(len(intents), texts, matrix, owner, weight >= 1.0)
            if self.tuning.kinds
            else None,
        )
        with self._lock:
            self._index[key] = entry
            while len(self._index) > _CACHE_SIZE:
                self._index.popitem(last=False)
        return entry

    def scores(self, text: str, intents: Sequence[IntentTransition]) -> list[Score]:
        """Every intent's combined score, best first (ties keep the intents' order)."""
        if not intents:
            return []
        index = self._phrases(intents)
        parts = split(text, self.tuning.clauses) if index.phrases else ()
        if parts:  # the whole turn and its clauses, embedded in one call (``clauses.py``)
            vectors = self.embedder.embed([text, *parts])
            vector = vectors[0]
            best = self._semantic(text, vector, intents, index)
            scored = [
                self._semantic(p, v, intents, index)
                for p, v in zip(parts, vectors[1:], strict=True)
            ]
            best = combine(best, parts, scored, self.tuning.clause_discount)
        else:
            vector = self.embedder.embed_one(text) if index.phrases else None
            best = self._semantic(text, vector, intents, index)
        if index.kinds is not None and vector is not None:
            best = self._kinds(text, vector, best, index.kinds)
        answer = short_answer(text)
        for n, intent in enumerate(intents):
            for phrase in intent.examples:
                value, rule = exact(text, phrase, answer)
                if value > 0 and value >= best[n].score - 1e-6:
                    best[n] = Score(intent.name, round(value, 4), rule, phrase)
        return sorted(best, key=lambda s: -s.score)

    def _profiles(
        self,
        intents: int,
        texts: Sequence[str],
        matrix: np.ndarray,
        owner: np.ndarray,
        own: np.ndarray,
    ) -> np.ndarray:
        """Each intent's mean probability of each kind of request over its own examples and
        description (``kinds.py``), from the rows the phrase index has already embedded."""
        from runtime.providers.local import kinds  # its module runs as set-up's fitting step

        model = kinds.load()
        rows = np.zeros((intents, len(model.labels)))
        for n in range(intents):
            chosen = np.flatnonzero((owner == n) & own)
            if chosen.size:
                said = [texts[k] for k in chosen.tolist()]
                rows[n] = model.probabilities(said, matrix[chosen]).mean(axis=0)
        return rows

    def _kinds(
        self, text: str, vector: np.ndarray, best: list[Score], profiles: np.ndarray
    ) -> list[Score]:
        """The semantic scores lowered by the request classifier's disagreement (``kinds.py``):
        never raised, so a text that matched nothing still matches nothing."""
        from runtime.providers.local import kinds

        model = kinds.load()
        p = model.probabilities([text], vector[None, :])[0]
        keep = np.arange(len(p)) != model.none
        agree = np.sqrt(profiles[:, keep] * p[keep][None, :]).sum(axis=1)
        moved = self.tuning.kinds * (1.0 - p[model.none]) * (agree - agree.max())
        out = []
        for s, delta in zip(best, moved.tolist(), strict=True):
            if s.phrase and s.rule == "semantic":
                detail = f"{s.detail}, kind {delta:+.2f}".lstrip(", ")
                s = Score(s.intent, round(s.score + delta, 4), s.rule, s.phrase, detail)
            out.append(s)
        return out

    def _semantic(
        self,
        text: str,
        vector: np.ndarray | None,
        intents: Sequence[IntentTransition],
        index: PhraseIndex,
    ) -> list[Score]:
        """Every intent's semantic score for ``text`` (embedded as ``vector``), in order."""
        best = [Score(i.name, 0.0, "semantic", "") for i in intents]
        text_negated = negated(text)
        penalty = self.tuning.negation_penalty
        hub = [0.0] * len(intents)
        # An open answer may be said either way ("nobody fixed my problem", "the outages"): the
        # negation of an open intent's phrases says nothing about whether the text is one.
        closed = ~index.open
        if vector is not None:
            sims = (index.matrix @ vector) * index.weights
            disagree = (index.negations != text_negated) & closed[np.asarray(index.owners)]
            sims = np.where(disagree, sims * penalty, sims)
            # Hubness re-ranks the phrases; it never lifts one past an example said as is.
            sims = np.minimum(sims - index.offsets, 1.0)
            for row, (sim, phrase, n) in enumerate(
                zip(sims.tolist(), index.phrases, index.owners, strict=True)
            ):
                if sim > best[n].score:
                    best[n] = Score(intents[n].name, round(sim, 4), "semantic", phrase)
                    hub[n] = float(index.offsets[row])
        aligned = [0.0] * len(intents)
        if index.alignment is not None:
            found = align.f_scores(
                index.alignment, self._word_vectors(), text, NEGATIONS, self.tuning.align_floor
            )
            aligned = align.per_intent(
                index.alignment, found, text_negated, penalty, closed, len(intents)
            )
        for n, intent in enumerate(intents):
            shared = overlap(text, text_negated, intent, penalty if closed[n] else 1.0)
            if (shared > 0 or aligned[n] > 0) and best[n].score > 0:
                # Words said as in an example add to the meaning: the static model dilutes
                # a shared key word ("reschedule") among the others of the sentence.
                # It never lifts a score to the level of an example said as is (0.9).
                added = self.tuning.overlap * shared
                if aligned[n] > 0:
                    added += self._align_share(bool(index.open[n])) * aligned[n]
                boosted = min(best[n].score + added, 0.9)
                value = round(max(best[n].score, boosted), 4)
                best[n] = Score(intent.name, value, best[n].rule, best[n].phrase)
        share = self.tuning.centroid
        if vector is not None and share > 0 and len(index.centroid_owners):
            sims = index.centroids @ vector
            disagree = (index.centroid_negations != text_negated) & closed[index.centroid_owners]
            sims = np.where(disagree, sims * penalty, sims)
            centroid = [0.0] * len(intents)
            for sim, n in zip(sims.tolist(), index.centroid_owners.tolist(), strict=True):
                centroid[n] = max(centroid[n], sim)
            for n, s in enumerate(best):
                if not s.phrase:
                    continue
                value = round((1 - share) * s.score + share * centroid[n], 4)
                detail = (
                    f"nearest {s.score:.2f} (hubness {-hub[n]:+.2f}), centroid {centroid[n]:.2f}"
                )
                best[n] = Score(s.intent, value, s.rule, s.phrase, detail)
        for n, s in enumerate(best):
            if index.open[n] and s.phrase and self.tuning.open_bonus:
                value = round(s.score + self.tuning.open_bonus, 4)
                detail = f"{s.detail}, open +{self.tuning.open_bonus:.2f}".lstrip(", ")
                best[n] = Score(s.intent, value, s.rule, s.phrase, detail)
        return best

    def decide(self, text: str, intents: Sequence[IntentTransition]) -> Decision:
        scores = tuple(self.scores(text, intents))
        if not scores or scores[0].score < self.tuning.threshold:
            return Decision(scores)
        first = scores[0]
        second = scores[1] if len(scores) > 1 else None
        if (
            second is not None
            and second.intent != first.intent
            and first.score - second.score < self.tuning.margin
            and not (first.rule != "semantic" and second.rule == "semantic")
        ):
            return Decision(scores, clarify=(first, second))
        return Decision(scores, winner=first)
