"""Every diagnostic code the compiler reports, with what it means and an example of each.

``voxflow explain CODE`` prints an entry; the language reference (``docs/language.md``,
``dsl.reference``) lists them all. A test (``tests/dsl/test_reference.py``) fails when a code
used anywhere under ``dsl/`` has no entry here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    title: str
    explanation: str
    wrong: str
    """A ``.flow`` fragment that gets this diagnostic."""
    right: str
    """The same fragment, fixed."""


CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code(
            "VF101",
            "syntax error in a .flow file",
            "The text does not follow the .flow grammar (dsl/flow.lark): a misplaced keyword, "
            "a string without its closing quote, wrong indentation, a call argument without "
            "`name = value`. The file cannot be read further than the first such error.",
            'node greet\n  say "Hello',
            'node greet\n  say "Hello"',
        ),
        Code(
            "VF102",
            "syntax error in a .flow.yaml file",
            "The YAML itself is malformed: bad indentation, a missing colon, an unclosed quote, "
            "or more than one document. It is reported where the mistake is, not where YAML "
            "gave up: at the opening quote of a string that runs on, at a key without its "
            "colon, at the [ that is not closed, and at a line whose indentation matches no "
            "block above it (with the indentations it could have).",
            "nodes:\n  greet:\n   say: Hello\n  task: Ask",
            "nodes:\n  greet:\n    say: Hello\n    task: Ask",
        ),
        Code(
            "VF103",
            "source over a limit",
            "The flow source is larger, longer, holds more YAML values or nests brackets deeper "
            "than a flow ever needs (dsl/limits.py); it is refused before any parser runs, so "
            "a hostile file cannot hold the compiler.",
            "((((((((((... 2,000 levels ...))))))))))",
            "split the flow, or move data to a knowledge collection or a contacts file",
        ),
        Code(
            "VF104",
            "YAML anchor or alias",
            "Anchors (&name) and aliases (*name) are refused: a flow has no use for them, and "
            "nested aliases expand exponentially.",
            "say: &hello Hello\ntask: *hello",
            "say: Hello\ntask: Hello",
        ),
        Code(
            "VF110",
            "expression syntax error",
            "An expression (a `when` condition, a `validate`, a `set` value, a call argument) "
            "does not parse, or holds a number too large to be meant.",
            "when contact.age > > 18 -> adult",
            "when contact.age > 18 -> adult",
        ),
        Code(
            "VF111",
            "invalid duration",
            "A duration is a number with a unit: ms, s, m, h or d (`500ms`, `30s`, `15m`, "
            "`2h`, `1d`), not finer than a millisecond.",
            "on silence 6 -> goodbye",
            "on silence 6s -> goodbye",
        ),
        Code(
            "VF112",
            "invalid clock time, date or hours",
            "Clock times are `HH:MM` (24 h), dates `YYYY-MM-DD`, window hours `HH:MM-HH:MM`.",
            "window mon-fri 09:00-18:99 local",
            "window mon-fri 09:00-18:00 local",
        ),
        Code(
            "VF120",
            "template syntax error",
            "A template (`say`, `task`, `persona`, a prompt...) has unbalanced `{{ }}` or "
            "`{% %}`, or tries to include, import or extend another template (not allowed in "
            "the sandbox).",
            'say "Hello {{ contact.first_name "',
            'say "Hello {{ contact.first_name }}"',
        ),
        Code(
            "VF201",
            "unknown key",
            "A YAML mapping has a key this place does not know (usually a typo); the hint "
            "names the closest known key.",
            "nodes:\n  greet:\n    sya: Hello",
            "nodes:\n  greet:\n    say: Hello",
        ),
        Code(
            "VF202",
            "wrong value",
            "A value has the wrong shape or is out of range: a name that is not a name, DTMF "
            "keys other than 0-9 * #, an unknown provider, a number below its minimum "
            "(`on failures max 0`).",
            'on dtmf "1a" -> billing',
            'on dtmf "1" -> billing',
        ),
        Code(
            "VF203",
            "missing required part",
            "Something required is missing: an intent's description, a tool's url, the node "
            "`amd leave_message` runs, the contacts source.",
            "on confirms -> confirmed",
            'on confirms "The caller confirms" -> confirmed',
        ),
        Code(
            "VF204",
            "turn detection none",
            "With no turn detection nothing ends the caller's turns (no voxflow provider detects "
            "the end of speech on the client), so the agent would never hear the caller.",
            "provider\n  turn_detection none",
            "provider\n  turn_detection server_vad",
        ),
        Code(
            "VF205",
            "a VAD setting the turn detection ignores, or out of range",
            "vad_threshold belongs to server VAD and lies between 0 and 1; eagerness belongs to "
            "semantic VAD; prefix_padding belongs to server VAD and is at most 5 s; silence is an "
            "end-of-turn pause between 0.1 s and 10 s.",
            "provider\n  turn_detection semantic_vad\n  vad_threshold 0.7",
            "provider\n  turn_detection server_vad\n  vad_threshold 0.7",
        ),
        Code(
            "VF206",
            "a voice the provider does not have",
            "A shared voice goes to every provider, so it must be an OpenAI Realtime voice and "
            "the flow must not fall back to Ultravox; name each provider's voice otherwise.",
            'provider\n  voice "Mark"\n  fallback ultravox',
            "provider\n  voice {openai: marin, ultravox: Mark}\n  fallback ultravox",
        ),
        Code(
            "VF207",
            "a node's turn detection Ultravox cannot apply",
            "Ultravox sets its voice activity detection once per call (vadSettings, from the "
            "provider's silence): a node's turn block is applied by OpenAI Realtime and ignored "
            "when Ultravox takes the call. A warning, reported when the provider fallback names "
            "ultravox; set what must hold on every provider at agent level.",
            "provider\n  fallback ultravox\nnode card\n  turn\n    silence 2s",
            'provider\n  silence 2s\n  fallback ultravox\nnode card\n  task "Ask the card number"',
        ),
        Code(
            "VF210",
            "duplicate node",
            "Two nodes have the same name; every node name must be unique in the agent.",
            "node greet\n  ...\nnode greet",
            "node greet\n  ...\nnode greet_again",
        ),
        Code(
            "VF211",
            "duplicate name",
            "Two things that must differ share a name: two slots, two outcomes, two intents "
            "of a node (intents become function tools, which providers require unique), or a "
            "declared tool named like a built-in tool.",
            "collect day: date\ncollect day: str",
            "collect day: date\ncollect note: str",
        ),
        Code(
            "VF301",
            "undefined name in an expression",
            "An expression reads a name the flow does not declare: `contact.*` and "
            "`campaign.*` come from `context`, `vars.*` from `var`, `slots.*` from `collect` "
            "and intent params, `<into>.<field>` from a tool's declared result fields.",
            "when contact.agee > 18 -> adult",
            "when contact.age > 18 -> adult",
        ),
        Code(
            "VF302",
            "undefined name in a template",
            "A template reads a name the flow does not declare, or a private attribute. "
            "Tool results are typed: after `call lookup(...) into order`, only the fields of "
            "the tool's `response` (or a built-in's declared result) are readable.",
            'say "Your order is {{ order.stauts }}"',
            'say "Your order is {{ order.status }}"',
        ),
        Code(
            "VF303",
            "type error in an expression",
            "Operands or a result have the wrong type: a condition that is not a bool, a "
            "comparison of a number with text, a list of mixed types.",
            'when contact.age == "old" -> adult',
            "when contact.age >= 65 -> senior",
        ),
        Code(
            "VF304",
            "unknown function or filter, or wrong arity",
            "An expression calls a function that does not exist or with the wrong number of "
            "arguments, or a template uses an unknown filter. The functions and filters are "
            "listed in docs/language.md.",
            "when lenght(slots.pin) == 4 -> ok",
            "when len(slots.pin) == 4 -> ok",
        ),
        Code(
            "VF305",
            "unknown type",
            "A type name is not one of str, int, float, bool, date, time, datetime, duration, "
            "tz, phone, email, money, digits, list[<type>] or enum[a|b].",
            "collect day: dat",
            "collect day: date",
        ),
        Code(
            "VF306",
            "unknown tool argument",
            "A `call` passes an argument the tool does not declare. Built-in tools are "
            "declared in dsl/builtins.py (listed in docs/language.md), HTTP tools by their "
            "`param` lines.",
            "call schedule_callback(at = slots.when)",
            "call schedule_callback(when = slots.when)",
        ),
        Code(
            "VF307",
            "missing tool argument",
            "A `call` leaves out a parameter the tool requires.",
            "call set_outcome",
            "call set_outcome(outcome = 'promised')",
        ),
        Code(
            "VF308",
            "tool argument of the wrong type",
            "An argument's type does not fit the parameter's. Text is accepted where a "
            "date, time, datetime, duration, phone, email, money or digits is expected (it "
            "is read at run time, as a model's text is).",
            "call opt_out(reason = contact.age)",
            "call opt_out(reason = 'asked on the phone')",
        ),
        Code(
            "VF309",
            "set of an undeclared name, or of a value of another type",
            "`set vars.<name>` needs the variable declared with `var`; `set slots.<name>` a "
            "slot some node collects or an intent parameter. The value must fit the declared "
            "type; `null` clears a slot, so its node asks for it again.",
            "set slots.dya = null",
            "set slots.day = null",
        ),
        Code(
            "VF310",
            "template or expression over a bound",
            "Constants in a template already exceed a run-time bound (range size, text length, "
            "nesting; dsl/bounds.py): the render would be cut off on every call.",
            "{% for i in range(10**7) %}.{% endfor %}",
            "{{ contact.first_name }}",
        ),
        Code(
            "VF401",
            "unknown target node",
            "A transition (`-> name`), `fallback`, a tool's `on_error` or the campaign's "
            "`amd leave_message` names a node that does not exist.",
            'on confirms "The caller confirms" -> confirmd',
            'on confirms "The caller confirms" -> confirmed',
        ),
        Code(
            "VF402",
            "unknown tool",
            "A node's `tools`, a `call` action or an `on tool_error <tool>` names a tool that "
            "is neither built in nor declared with `tool <name> http ...`.",
            "call schedule_calback",
            "call schedule_callback",
        ),
        Code(
            "VF403",
            "unreachable node (warning)",
            "No transition leads to the node from start, the fallback, the global "
            "transitions, a tool's on_error or the campaign's amd node.",
            'node forgotten\n  say "Never said"\n  end',
            'on other "..." -> forgotten',
        ),
        Code(
            "VF404",
            "dead end",
            "A node has no way out: no transition with a target, and it neither ends nor "
            "transfers the call. The caller would be left in silence.",
            'node thanks\n  say "Thanks!"',
            'node thanks\n  say "Thanks!"\n  end',
        ),
        Code(
            "VF405",
            "transition that can never fire",
            "`when false`, a transition shadowed by an earlier one of the same event (the "
            "same condition or keys, a second `on silence`, `on no_match`, `on failures` or "
            '`on tool_error` for the same tool), or a DTMF key after `dtmf "any"`.',
            'on dtmf "any" -> menu\non dtmf "1" -> billing',
            'on dtmf "1" -> billing\non dtmf "any" -> menu',
        ),
        Code(
            "VF406",
            "unknown outcome",
            "`end`, `outcome` or a campaign rule names an outcome that is neither in "
            "`outcomes` nor a built-in or telephony outcome.",
            "end confirmd",
            "end confirmed",
        ),
        Code(
            "VF407",
            "missing start node",
            "The agent has no nodes, or `start` names a node that does not exist.",
            "start gret",
            "start greet",
        ),
        Code(
            "VF408",
            "retry budget never reached (warning)",
            "A node's `on failures max N` cannot fire because its `on silence ... max S` and "
            "`on no_match ... max M` always leave first: one visit counts at most S + M + 1 "
            "failures.",
            "on silence 5s max 1 -> desk\non no_match max 1 -> desk\non failures max 4 -> desk",
            "on silence 5s max 1 -> desk\non no_match max 1 -> desk\non failures max 3 -> desk",
        ),
        Code(
            "VF409",
            "intent named like an engine function",
            "`provide_slots`, `no_match`, `clarify` and `chitchat` are functions the engine "
            "offers the model itself; an intent of the same name could not be told apart. "
            "To change what the engine does on them, write `on no_match`, `on clarify` or "
            "`on chitchat`.",
            "- intent: clarify\n  description: The caller asks what we mean",
            "- intent: clarify_request\n  description: The caller asks what we mean",
        ),
        Code(
            "VF410",
            "recursive sub-flow",
            "A sub-flow calls itself, directly or through other sub-flows. Sub-flows do not "
            "recurse; to ask again, add a transition back to one of its own nodes.",
            "flow identity()\n  node ask\n    call identity -> ask",
            "flow identity()\n  node ask\n    on no_match -> ask",
        ),
        Code(
            "VF411",
            "sub-flow that never returns",
            "No node of a sub-flow has a `return`, so its callers would never continue at "
            "their `-> node`.",
            "flow identity() -> (ok: bool)\n  node ask\n    end",
            "flow identity() -> (ok: bool)\n  node ask\n    return(ok = true)",
        ),
        Code(
            "VF412",
            "return outside a sub-flow",
            "`return` in a node of the main flow: there is no caller to go back to.",
            "node done\n  return",
            "node done\n  end",
        ),
        Code(
            "VF413",
            "return values that do not match the results",
            "A `return` gives a result its sub-flow does not declare, or leaves out a "
            "required one.",
            "flow identity() -> (verified: bool)\n  node ok\n    return(verifed = true)",
            "flow identity() -> (verified: bool)\n  node ok\n    return(verified = true)",
        ),
        Code(
            "VF414",
            "import that cannot be read",
            "The file an `import` names is missing, does not compile, or imports this file "
            "back. The path is relative to the importing file; the first error of that file "
            "is quoted.",
            'import identity from "comon/identity.flow"',
            'import identity from "common/identity.flow"',
        ),
        Code(
            "VF415",
            "unknown imported sub-flow",
            "The imported file declares no sub-flow of that name.",
            'import identty from "common/identity.flow"',
            'import identity from "common/identity.flow"',
        ),
        Code(
            "VF416",
            "correction with nothing to re-run (warning)",
            "A slot says `on_change rerun`, but no node of its flow reads `slots.<name>` in a "
            "say line, a task, an entry action, a prompt or a `when`: a correction only "
            "changes the value.",
            "collect day: date\n  on_change rerun",
            'collect day: date\n  on_change rerun\n...\nnode confirm\n  say "So, {{ slots.day | day }}?"',
        ),
        Code(
            "VF417",
            "clarification never asked (warning)",
            "`on clarify` where fewer than two intents are open (the node's and the global "
            "ones): the engine never has two intents to choose between there.",
            'node ask\n  on yes "The caller agrees" -> done\n  on clarify "Which one?"',
            'node ask\n  on yes "The caller agrees" -> done\n  on no "The caller refuses" -> bye\n'
            '  on clarify "Did you mean {{ clarify.first }}, or {{ clarify.second }}?"',
        ),
        Code(
            "VF418",
            "correction undone by a re-run (warning)",
            "A node reads a slot and its entry sets that slot: a correction goes back to the "
            "node (it reads the slot), whose `set` then overwrites what the caller just said.",
            'node confirm\n  set slots.day = today()\n  say "So, {{ slots.day | day }}?"',
            'node ask\n  on today "The caller wants today" -> confirm\n    do\n'
            "      set slots.day = today()",
        ),
        Code(
            "VF501",
            "outcome without campaign rule (warning)",
            "The campaign says nothing about an outcome the agent can end in, so it is "
            "treated as final; the warning makes that a choice.",
            "outcomes promised\n...\ncampaign c\n  ...",
            "campaign c\n  on promised final",
        ),
        Code(
            "VF502",
            "empty or missing calling window",
            "A window ends before it starts (windows cannot cross midnight), or the campaign "
            "has none.",
            "window mon-fri 18:00-09:00 local",
            "window mon-fri 09:00-18:00 local",
        ),
        Code(
            "VF503",
            "unknown time zone",
            "A time zone is not an IANA name (Europe/Paris, America/New_York).",
            'timezone "Europe/Pariss"',
            'timezone "Europe/Paris"',
        ),
        Code(
            "VF504",
            "retry without delay or cap",
            "A retry rule needs a delay and a maximum number of attempts.",
            "on busy retry after 15m",
            "on busy retry after 15m max 3",
        ),
        Code(
            "VF505",
            "unknown region or holiday country",
            "Phone regions and holiday calendars are ISO country codes (US, GB, FR).",
            "holidays USA",
            "holidays US",
        ),
        Code(
            "VF506",
            "impossible pacing",
            "The ramp starts above the concurrency cap, or grows every 0 ms.",
            "pacing concurrent 5 ramp 10",
            "pacing concurrent 5 ramp 2 step 1 every 1m",
        ),
    )
}


def explain(code: str) -> str | None:
    """The explanation of ``code`` as plain text (``None`` for an unknown code)."""
    c = CODES.get(code.strip().upper())
    if c is None:
        return None
    indent = "\n    "
    return (
        f"{c.code}: {c.title}\n\n{c.explanation}\n\n"
        f"Gets it:{indent}{c.wrong.replace(chr(10), indent)}\n\n"
        f"Fixed:{indent}{c.right.replace(chr(10), indent)}\n"
    )
