"""Flows built directly as IR for the engine's unit tests."""

from __future__ import annotations

from dsl.ir import (
    Agent,
    CallAction,
    DtmfTransition,
    EndAction,
    Expr,
    Flow,
    HttpTool,
    IntentTransition,
    Node,
    NoMatchTransition,
    OutcomeAction,
    ProviderSettings,
    SayAction,
    SilenceTransition,
    Template,
    TransferAction,
)

T = Template


def reminder(*, fallback: str | None = "fallback") -> Flow:
    """Greet, confirm or reschedule, with DTMF, silence, no-match, tools and a fallback node."""
    return Flow(
        Agent(
            name="reminder",
            persona=T("You are Ava. Be brief."),
            start="greet",
            outcomes=("confirmed", "declined"),
            fallback=fallback,
            provider=ProviderSettings(apology=T("Sorry, we have a technical problem.")),
            tools=(
                HttpTool(
                    name="lookup",
                    description="Look up the appointment",
                    method="GET",
                    url=T("http://127.0.0.1:9/x"),
                    timeout_ms=1000,
                    retries=1,
                    on_error="fallback",
                ),
            ),
            global_transitions=(
                IntentTransition(
                    "opt_out_request",
                    "The caller asks not to be called again",
                    "opted_out",
                    examples=("stop calling me",),
                ),
                DtmfTransition("0", "human"),
            ),
            nodes=(
                Node(
                    "greet",
                    say=(T("Hi, this is Ava about your appointment."),),
                    task=T("Ask whether they can make it."),
                    tools=("knowledge_search", "lookup"),
                    transitions=(
                        IntentTransition(
                            "confirms", "The caller confirms", "confirmed", examples=("yes",)
                        ),
                        IntentTransition(
                            "declines", "The caller cannot come", "declined", examples=("no",)
                        ),
                        DtmfTransition("1", "confirmed"),
                        DtmfTransition("*9", "declined"),
                        SilenceTransition(6000, "goodbye", T("Are you still there?"), 2),
                        NoMatchTransition("goodbye", T("Please say yes or no."), 1),
                    ),
                ),
                Node(
                    "confirmed",
                    say=(T("Great, see you then."),),
                    on_enter=(EndAction("confirmed"),),
                ),
                Node(
                    "declined",
                    on_enter=(OutcomeAction("declined"), SayAction(T("No problem."))),
                    transitions=(IntentTransition("ok", "The caller acknowledges", "goodbye"),),
                ),
                Node(
                    "opted_out",
                    on_enter=(CallAction("opt_out", into="opt"),),
                    say=(T("You won't hear from us again."),),
                    transitions=(IntentTransition("bye", "The caller says goodbye", "goodbye"),),
                ),
                Node("human", on_enter=(TransferAction(T("+15550001111")),)),
                Node("goodbye", say=(T("Goodbye."),), on_enter=(EndAction(),)),
                Node(
                    "fallback",
                    say=(T("Let me get someone to call you back."),),
                    on_enter=(EndAction(),),
                ),
            ),
        )
    )


def looping() -> Flow:
    """Two nodes that bounce into each other on every caller answer."""
    return Flow(
        Agent(
            name="loop",
            persona=T("p"),
            start="a",
            fallback="fb",
            nodes=(
                Node("a", say=(T("A"),), transitions=(IntentTransition("next", "n", "b"),)),
                Node("b", say=(T("B"),), transitions=(IntentTransition("next", "n", "a"),)),
                Node("fb", say=(T("Fallback."),), on_enter=(EndAction(),)),
            ),
        )
    )


def counter_flow() -> Flow:
    """Uses expressions: a ``when`` over a variable the intent increments (needs dsl.expr)."""
    from dsl.ir import Field, SetAction, WhenTransition

    return Flow(
        Agent(
            name="counter",
            persona=T("p"),
            start="ask",
            variables=(Field("n", "int", default=Expr("0")),),
            nodes=(
                Node(
                    "ask",
                    transitions=(
                        WhenTransition(Expr("vars.n >= 2"), "done"),
                        IntentTransition(
                            "more", "more", None, actions=(SetAction("vars.n", Expr("vars.n + 1")),)
                        ),
                    ),
                ),
                Node("done", say=(T("Two."),), on_enter=(EndAction(),)),
            ),
        )
    )
