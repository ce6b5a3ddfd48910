from dsl.ir import (
    Agent,
    CallAction,
    EndAction,
    Expr,
    Flow,
    IntentTransition,
    Node,
    Template,
    WhenTransition,
)


def _flow(persona: str = "You are Ava.") -> Flow:
    return Flow(
        agent=Agent(
            name="reminder",
            persona=Template(persona),
            start="greet",
            nodes=(
                Node(
                    name="greet",
                    say=(Template("Hi {{ contact.first_name }}"),),
                    transitions=(
                        IntentTransition(name="confirms", description="Confirms", target="done"),
                        WhenTransition(condition=Expr("vars.tries > 2"), target="done"),
                    ),
                ),
                Node(
                    name="done",
                    on_enter=(
                        CallAction(tool="confirm", args=(("id", Expr("contact.id")),)),
                        EndAction(outcome="confirmed"),
                    ),
                ),
            ),
        )
    )


def test_ir_json_round_trip_preserves_equality_and_hash():
    flow = _flow()
    again = Flow.from_json(flow.to_json())
    assert again == flow
    assert again.hash == flow.hash


def test_ir_hash_changes_with_content():
    assert _flow("You are Ava.").hash != _flow("You are Bob.").hash
    assert _flow().hash.startswith("sha256:")


def test_ir_json_is_canonical():
    text = _flow().to_json()
    assert '": ' not in text and ", " not in text.replace(", see", "")
    assert text.index('"agent"') < text.index('"campaign"')
