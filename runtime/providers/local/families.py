"""Built-in intent families: how callers commonly say the requests every voice flow meets.

A flow's intents carry three to five examples each, far fewer than the ways callers say the
same thing; a static embedding model (``model.py``) does not know that "ring me" means "call
me" or that "fire away" is a yes. Each family below is one such common request (a yes, a
callback, an opt-out, a person...) written out in many everyday wordings, the way built-in
intents of voice platforms are (Amazon Alexa's ``AMAZON.YesIntent``, ``AMAZON.StopIntent``...:
https://developer.amazon.com/en-US/docs/alexa/custom-skills/standard-built-in-intents.html).

``semantic.IntentMatcher`` links an intent of a flow to a family when the intent's own
examples and description say what the family says (``link`` in ``semantic.py``); a linked
family's phrases then count as further examples of that intent, at a discount, so the flow's
own examples always come first. An intent no family fits keeps its examples alone.

The phrases were written from common call-centre language, not from the evaluation sets in
``flows/eval/``; common wordings that those sets happen to contain were left out so that the
sets stay held out (``tests/runtime/providers/local/test_families.py`` checks that none of the
phrases is an evaluation utterance).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str
    phrases: tuple[str, ...]
    request: bool = False
    """An explicit request (opt-out, callback, a person) that must never be read as a slot value."""


FAMILIES: tuple[Family, ...] = (
    Family(
        "affirm",
        (
            "yes",
            "yeah",
            "yep",
            "yes please",
            "sure",
            "sure thing",
            "of course",
            "certainly",
            "absolutely",
            "okay",
            "ok then",
            "alright",
            "go ahead",
            "that's fine",
            "that's correct",
            "that's right",
            "exactly",
            "I don't mind",
            "sounds great",
            "please do",
            "yes go on",
            "I agree",
            "mm hmm",
            "you bet",
            "definitely",
        ),
    ),
    Family(
        "deny",
        (
            "no",
            "not really",
            "not interested",
            "not right now",
            "I don't want to",
            "no I don't",
            "I'm afraid not",
            "definitely not",
            "not at the moment",
            "I'll pass",
            "I don't have time",
            "I'm too busy",
            "it's not a good time",
        ),
    ),
    Family(
        "callback",
        (
            "call me back later",
            "can you call me another time",
            "ring me back later",
            "phone me later",
            "give me a call later on",
            "call me tomorrow morning",
            "call again in an hour",
            "I'm busy right now, call me later",
            "I'm in a meeting, can you call back",
            "it's a bad time, can we talk later",
            "get back to me later",
            "call me back in the afternoon",
            "can we do this another time",
            "phone back at six",
            "ring back after lunch",
        ),
        request=True,
    ),
    Family(
        "opt_out",
        (
            "stop calling me",
            "do not call this number",
            "never call me again",
            "remove me from your list",
            "take my number off your list",
            "stop ringing me",
            "unsubscribe me",
            "delete my number",
            "no more calls please",
            "I want to opt out",
            "leave me alone and stop phoning",
            "I don't want to be contacted",
        ),
        request=True,
    ),
    Family(
        "human",
        (
            "can I speak to a person",
            "let me talk to a human",
            "a real person please",
            "put me through to someone",
            "I want to speak to a representative",
            "connect me to customer service",
            "can I talk to a real human being",
            "is there anyone I can talk to",
            "I need to speak with somebody",
            "speak to an advisor",
            "let me speak to your manager",
            "can you transfer me",
            "customer service please",
            "reception please",
        ),
        request=True,
    ),
    Family(
        "wrong_person",
        (
            "wrong number",
            "you've got the wrong person",
            "there's nobody here by that name",
            "never heard of them",
            "that's not me",
            "they don't live here",
            "she doesn't live here anymore",
            "he's not at this number",
            "you must have the wrong number",
            "no one called that lives here",
        ),
    ),
    Family(
        "done",
        (
            "that's all",
            "that's everything",
            "that's it",
            "no that's all thanks",
            "I'm done",
            "all good now",
            "thanks, bye",
            "goodbye",
            "bye bye",
            "thank you, that's all I needed",
            "great, that helps",
            "that's all for now",
            "thanks for your help",
        ),
    ),
    Family(
        "repeat_menu",
        (
            "go back",
            "back to the menu",
            "main menu",
            "start again",
            "what were the choices again",
            "say that again",
            "I want something else",
            "none of those",
            "take me back",
            "can I hear the list again",
        ),
    ),
    Family(
        "confirm_attendance",
        (
            "I'll be there",
            "I'm coming",
            "I will attend",
            "I can make it",
            "see you then",
            "see you on the day",
            "that time works",
            "I'll be on time",
            "I'm still coming",
            "keep the appointment",
            "that day is fine",
            "I plan to be there",
        ),
    ),
    Family(
        "reschedule",
        (
            "I need to move the appointment",
            "can I reschedule",
            "I can't make that time",
            "I can't come that day",
            "could we do another day",
            "is there an earlier slot",
            "I need a different time",
            "can we rearrange it",
            "I'm not free then",
        ),
    ),
    Family(
        "cancel",
        (
            "cancel it",
            "cancel the appointment",
            "I want to cancel",
            "please cancel my booking",
            "I don't need it anymore",
            "I no longer need the appointment",
            "forget the appointment",
            "I've changed my mind, cancel",
            "forget it",
        ),
    ),
    Family(
        "book",
        (
            "I'd like to book an appointment",
            "I need to see a doctor",
            "can I get an appointment",
            "I want to schedule a visit",
            "can you fit me in",
            "book me in please",
            "do you have availability",
        ),
    ),
    Family(
        "at_home",
        (
            "I'll be home",
            "someone will be in",
            "somebody will be there",
            "I'll be around",
            "I'm at home that day",
        ),
    ),
    Family(
        "away",
        (
            "I won't be home",
            "nobody will be in",
            "I'm away that day",
            "I'll be out",
            "no one will be there",
        ),
    ),
    Family(
        "will_pay",
        (
            "I can pay",
            "I'll pay that",
            "I can make a payment",
            "I'll settle it",
            "I'll clear the balance",
            "let's set up a payment",
            "I can pay some of it",
            "put me down for a payment",
            "I'm happy to pay",
        ),
    ),
    Family(
        "refuse_pay",
        (
            "I won't pay",
            "I'm not paying",
            "I can't pay",
            "I refuse to pay",
            "I can't afford it",
            "I can't pay anything right now",
            "I'm broke",
        ),
    ),
    Family(
        "dispute",
        (
            "that's not my bill",
            "I already paid",
            "the amount is wrong",
            "that charge is a mistake",
            "I was overcharged",
            "this bill is incorrect",
            "I paid it last week",
            "there's an error on my bill",
        ),
    ),
    Family(
        "billing",
        (
            "billing",
            "a question about my bill",
            "a payment problem",
            "my account balance",
            "a refund",
            "the charges on my account",
            "accounts department",
        ),
    ),
    Family(
        "opening_hours",
        (
            "what are your opening hours",
            "when are you open",
            "what time do you close",
            "what time do you open",
            "opening times",
            "how late are you open",
            "are you open today",
        ),
    ),
    Family(
        "order_status",
        (
            "where is my order",
            "my order hasn't arrived",
            "my package is late",
            "tracking my delivery",
            "when will my parcel come",
            "I'm still waiting for my delivery",
            "has my order shipped",
            "delivery status",
        ),
    ),
    Family(
        "another_question",
        (
            "I have another question",
            "can I ask something else",
            "and another thing",
            "one more question",
            "there's something else I wanted to ask",
            "may I ask you something else",
        ),
    ),
)
