"""Rules over the words of a caller's text, for ``semantic.IntentMatcher``: negation, the
words of dates and numbers, short yes/no answers, and the exact and word-overlap rules.

A mean of token vectors barely tells "I'll pay" from "I won't pay"; these rules see what it
misses. ``semantic.py``'s module docstring says how they combine with the meaning.
"""

from __future__ import annotations

import functools
import re

from dsl.ir import IntentTransition
from runtime.providers.local.scoring import STOPWORDS, content, score_phrase, words
from runtime.providers.local.slots import NO, YES, read_yes_no

SHORT_ANSWER = 3
"""At most this many content words for a yes/no word to be read as the whole answer."""
FILLERS = frozenset("uh um umm er erm hmm mm ah oh well".split())
"""Hesitations that speech recognition writes down; they are not the start of an answer."""

NEGATORS = frozenset("dont wont cant cannot not never".split())
"""No-words that negate the verb after them: "don't call me again" is a request, not a "no"."""


NEGATIONS = frozenset(
    "not no never dont doesnt didnt wont cant cannot couldnt wouldnt shouldnt isnt arent wasnt "
    "werent havent hasnt hadnt aint nobody nothing none nowhere neither nor nope nah stop quit".split()
)
"""Words that negate what follows (``stop calling`` too); a mean of token vectors barely sees
them."""
NOT_NEGATIONS = ("no problem", "no worries", "not a problem", "no bother", "why not", "no doubt")
"""Idioms built from a negation that say yes."""


NUMBER = re.compile(r"\d+(am|pm|h|st|nd|rd|th|s)?")
VALUE_WORDS = frozenset(
    "at on in by for the a next this last today tomorrow tonight yesterday morning afternoon "
    "evening night noon midnight am pm oclock half past quarter to week weekend day month year "
    "monday tuesday wednesday thursday friday saturday sunday january february march april may "
    "june july august september october november december jan feb mar apr jun jul aug sep sept "
    "oct nov dec zero oh one two three four five six seven eight nine ten eleven twelve "
    "thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty "
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth twentieth thirtieth st nd rd th".split()
)
"""Words that make up dates, times and numbers: what is left of a text without them is what
it asks for."""


@functools.lru_cache(maxsize=4096)
def negated(text: str) -> bool:
    """Whether ``text`` says no to something: a word of ``NEGATIONS`` outside ``NOT_NEGATIONS``."""
    said = " ".join(words(text))
    for idiom in NOT_NEGATIONS:
        said = said.replace(" ".join(words(idiom)), " ")
    return any(w in NEGATIONS for w in said.split())


def free_text(intent: IntentTransition) -> bool:
    """Whether the intent takes a free-text parameter (``str``): what the caller says is its
    value, as with a reason or a question."""
    return any(p.type == "str" for p in intent.params)


def short_answer(text: str) -> bool | None:
    """The yes (True) or no (False) of a short answer that starts with one, else None."""
    content = [w for w in words(text) if w not in STOPWORDS and w not in FILLERS]
    if not content or len(content) > SHORT_ANSWER or not (content[0] in YES or content[0] in NO):
        return None
    if content[0] in NEGATORS and len(content) > 1 and content[1] not in YES | NO:
        return None  # a negated verb phrase: let the meaning decide
    return read_yes_no(text)


def overlap(text: str, text_negated: bool, intent: IntentTransition, penalty: float) -> float:
    """The best word-overlap score (``scoring``) of the intent's own phrases, each one whose
    negation disagrees with the text's counted at ``penalty``."""
    best = 0.0
    said = content(text)
    for phrase in (*intent.examples, intent.description):
        if not said & content(phrase):
            continue  # no shared word: 0 by every rule here, and the cheapest test
        value, rule = score_phrase(text, phrase)
        if rule != "overlap":
            continue  # the exact rules are scored on their own
        if negated(phrase) != text_negated:
            value *= penalty
        best = max(best, value)
    return best


def exact(text: str, phrase: str, answer: bool | None) -> tuple[float, str]:
    """The rule score of ``phrase`` when the rule is exact, else ``(0.0, "")``."""
    if all(w in YES or w in NO or w in STOPWORDS for w in words(phrase)):
        if answer is None or answer != read_yes_no(phrase):
            return 0.0, ""
        value, rule = score_phrase(text, phrase)
        return (value, rule) if rule == "contained" else (0.8, "polarity")
    value, rule = score_phrase(text, phrase)
    return (value, rule) if rule == "contained" else (0.0, "")
