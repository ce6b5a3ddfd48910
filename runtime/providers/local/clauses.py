"""Clauses of a caller's turn: where one turn says two things, and how their scores combine.

Callers often set a scene and make a request in one breath: "I won't be able to attend, can I
rebook", "something came up, can we push it back", "call me later, I'm in a shop". A mean of
token vectors over the whole turn blurs the clause that carries the intent with the one that
only sets the scene, and a negation in one clause ("won't") counts against the other. The
matcher (``semantic.IntentMatcher``) therefore also scores each clause on its own, as it
scores a text, and keeps for each intent the better of the whole turn and its clauses
(``combine``).

**Where a turn splits** (``split``), in this order:

1. at punctuation that speech recognition writes between clauses: ``, ; : . ! ?`` followed by
   a space or the end, and a dash between spaces ("10.30", "1,000" and "p.m." do not split);
2. before a **discourse marker** (``MARKERS``: "but", "because", "so", "and then",
   "although"...), which is dropped from the clause it starts ("so" only when a pronoun or
   "please" follows it, so "I'm so sorry" stays whole);
3. before a **second question** after a statement: a modal verb followed by a pronoun ("can
   I", "could we", "would you", ``QUESTION_VERBS`` × ``QUESTION_SUBJECTS``) that does not
   start the turn, is not inside a question started by a wh-word ("what time can I come") and
   does not follow a subordinator ("see if we can", "if you could");
4. before a **new subject** written with its verb (``NEW_SUBJECTS``: "I'll", "I'm", "we're"),
   unless it follows a verb of saying or thinking or a subordinator ("I think I'll come"):
   "I haven't forgotten I'll come", as recognisers that write no punctuation give it.

Then a piece of fewer than ``MIN_WORDS`` words joins the piece after it (the last one, the
piece before it), and pieces are joined two by two, the shortest pair first, until at most
``limit`` remain. **Never split**: a turn that ends up as one piece, and a **short answer** (at
most ``SHORT_ANSWER`` content words, hesitations aside, the first a yes/no word: "no, not
today", "yeah, sure, fine"): its yes or no is the answer, read by the exact rules. The whole
turn is always scored too; a split only adds candidates.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from runtime.providers.local.scoring import STOPWORDS, Score, words
from runtime.providers.local.slots import NO, YES
from runtime.providers.local.wording import FILLERS, SHORT_ANSWER

MIN_WORDS = 2
"""A clause has at least this many words; a shorter piece ("okay", "right") joins the next."""
MARKERS = frozenset(
    {
        ("but",),
        ("because",),
        ("cause",),
        ("cos",),
        ("although",),
        ("though",),
        ("otherwise",),
        ("anyway",),
        ("and", "then"),
        ("and", "so"),
    }
)
"""Words that start a new clause, as ``words`` writes them (lower case, apostrophes dropped)."""
SO_BEFORE = frozenset("i im ill id ive we were well you youre its it please can could".split())
"""A "so" starts a clause when one of these follows it ("so I'll call back", "so please cancel
it"), not as an intensifier ("I'm so sorry")."""
QUESTION_VERBS = frozenset("can could would will may shall should do".split())
QUESTION_SUBJECTS = frozenset("i we you someone somebody".split())
NEW_SUBJECTS = frozenset(
    "i'll i'm i've we're we'll we've he'll she'll they'll they're you'll there'll".split()
)
"""A subject and its verb in one word: "I haven't forgotten I'll come" says two things."""
LEAD_INS = frozenset("think know hope guess sure say said mean suppose reckon that if".split())
"""Words after which a new subject continues the clause ("I think I'll come")."""
WH_WORDS = frozenset("what when which where how why who whats whens".split())
SUBORDINATORS = frozenset("if whether that when what how where why who which".split())
_TOKEN = re.compile(r"\S+")
_BREAK = re.compile(r"[,.:;!?\u2026]+(?=\s|$)|\s[-\u2013\u2014]+\s")


@functools.lru_cache(maxsize=4096)
def split(text: str, limit: int) -> tuple[str, ...]:
    """The clauses of ``text`` by the rules of the module docstring, at most ``limit`` of
    them; an empty tuple when the turn does not split (the whole turn is always scored)."""
    if limit < 2 or _short_answer(text):
        return ()
    pieces: list[list[str]] = []
    for chunk in _BREAK.split(text):
        pieces.extend(_at_markers(_TOKEN.findall(chunk)))
    pieces = _join_short([p for p in pieces if words(" ".join(p))])
    while len(pieces) > limit:
        sizes = [len(words(" ".join(a + b))) for a, b in zip(pieces, pieces[1:], strict=False)]
        k = sizes.index(min(sizes))
        pieces[k : k + 2] = [pieces[k] + pieces[k + 1]]
    if len(pieces) < 2:
        return ()
    return tuple(" ".join(p) for p in pieces)


def combine(
    whole: Sequence[Score],
    clauses: Sequence[str],
    scored: Sequence[Sequence[Score]],
    discount: float,
) -> list[Score]:
    """Each intent's better score of the whole turn and its clauses (one list per clause, in
    the order of ``whole``), a clause's counted ``discount`` lower. A clause that decides is
    named in the score's ``detail``, so ``--explain`` shows which one it was."""
    out = list(whole)
    for k, (clause, scores) in enumerate(zip(clauses, scored, strict=True)):
        for n, s in enumerate(scores):
            value = round(s.score - discount, 4)
            if s.phrase and value > out[n].score:
                where = f"clause {k + 1} of {len(clauses)} {clause!r}"
                detail = f"{where}: {s.detail}" if s.detail else where
                out[n] = Score(s.intent, value, s.rule, s.phrase, detail)
    return out


def _short_answer(text: str) -> bool:
    content = [w for w in words(text) if w not in STOPWORDS and w not in FILLERS]
    return bool(content) and len(content) <= SHORT_ANSWER and (content[0] in YES | NO)


def _key(token: str) -> str:
    return "".join(words(token))


def _at_markers(tokens: list[str]) -> list[list[str]]:
    """``tokens`` cut before each discourse marker (dropped), second question and new subject."""
    pieces: list[list[str]] = [[]]
    n = 0
    while n < len(tokens):
        marker = _marker(tokens, n)
        if marker:
            pieces.append([])
            n += marker
            continue
        current = pieces[-1]
        if current and (_second_question(tokens, n, current) or _new_subject(tokens, n, current)):
            pieces.append([])
        pieces[-1].append(tokens[n])
        n += 1
    return [p for p in pieces if p]


def _marker(tokens: list[str], n: int) -> int:
    """How many tokens the marker at ``n`` spans (0 when there is none)."""
    said = [_key(t) for t in tokens[n : n + 2]]
    if tuple(said) in MARKERS:
        return 2
    if tuple(said[:1]) in MARKERS or (said[0] == "so" and said[1:] and said[1] in SO_BEFORE):
        return 1
    return 0


def _second_question(tokens: list[str], n: int, current: list[str]) -> bool:
    if n + 1 >= len(tokens):
        return False
    verb, subject = _key(tokens[n]), _key(tokens[n + 1])
    if verb not in QUESTION_VERBS or subject not in QUESTION_SUBJECTS:
        return False
    said = [_key(t) for t in current]
    return said[0] not in WH_WORDS and said[-1] not in SUBORDINATORS


def _new_subject(tokens: list[str], n: int, current: list[str]) -> bool:
    said = tokens[n].lower().replace("\u2019", "'")
    return said in NEW_SUBJECTS and _key(current[-1]) not in LEAD_INS | SUBORDINATORS


def _join_short(pieces: list[list[str]]) -> list[list[str]]:
    out: list[list[str]] = []
    carry: list[str] = []
    for piece in pieces:
        piece = carry + piece
        carry = []
        if len(words(" ".join(piece))) < MIN_WORDS:
            carry = piece
        else:
            out.append(piece)
    if carry:
        if out:
            out[-1] = out[-1] + carry
        else:
            out.append(carry)
    return out
