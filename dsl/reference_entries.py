"""The prose of the language reference: one entry per keyword, node field, event, action,
expression function, voice filter, outcome and campaign rule, each with an example.

The names come from the grammar and the registries (``dsl.reference`` reads them); this module
only says what each one means. ``tests/dsl/test_reference.py`` fails when a name has no entry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    names: tuple[str, ...]
    """The words this entry documents (keywords that only make sense together share one)."""
    text: str
    example: str


def _e(names: str, text: str, example: str) -> Entry:
    return Entry(tuple(names.split()), text, example)


KEYWORDS: tuple[Entry, ...] = (
    _e(
        "agent", "Starts the document: the agent's name, then its indented items.", "agent reminder"
    ),
    _e(
        "persona",
        "The system prompt (a template) sent with every node.",
        'persona "You are Ava from {{ campaign.clinic }}."',
    ),
    _e(
        "timezone",
        "The agent's default time zone (IANA) for contacts that have none.",
        'timezone "Europe/London"',
    ),
    _e(
        "context",
        "Typed fields the flow reads as `contact.<name>` or `campaign.<name>`; `?` marks a field optional.",
        "context contact(first_name: str, due: datetime, timezone: tz?)",
    ),
    _e(
        "var",
        "A flow variable, read and set as `vars.<name>`, with an optional default expression.",
        "var attempts: int = 0",
    ),
    _e(
        "outcomes",
        "The agent's own outcome vocabulary (built-in and telephony outcomes come on top).",
        "outcomes confirmed, rescheduled",
    ),
    _e("start", "The node a call starts in (default: the first node).", "start greet"),
    _e(
        "fallback",
        "At agent level: the node the engine goes to when a call is stuck. In `provider`: the providers to try in order when the first fails.",
        "fallback goodbye",
    ),
    _e(
        "provider",
        "Provider settings: voice, language, turn detection, fallback providers, apology.",
        'provider\n  voice "alloy"\n  fallback ultravox, local',
    ),
    _e(
        "voice language turn_detection vad_threshold apology",
        "Provider settings: the voice (one OpenAI voice, or one per provider: `voice {openai: marin, ultravox: Mark}`), the language (also the locale of voice filters), turn detection (`server_vad` or `semantic_vad`; `none` is refused), the VAD threshold (server VAD, 0 to 1), and the sentence said when no provider can take the call.",
        'provider\n  language "en-GB"\n  turn_detection semantic_vad\n  apology "Sorry, please call back later."',
    ),
    _e(
        "eagerness",
        "How soon semantic VAD ends the caller's turn: `low`, `medium`, `high` or `auto` (= medium); only with `turn_detection semantic_vad`.",
        "provider\n  turn_detection semantic_vad\n  eagerness low",
    ),
    _e(
        "prefix_padding",
        "Server VAD only: how much audio from before the detected start of speech is kept with the caller's turn (`prefix_padding_ms`, 300ms by default); up to 5s.",
        "provider\n  prefix_padding 500ms",
    ),
    _e(
        "turn",
        "A node's own turn detection, over the agent's: the same keys as in `provider` (`turn_detection`, `vad_threshold`, `eagerness`, `silence`, `prefix_padding`), checked the same way against the mode in force (the node's, else the agent's). Keys the node leaves out come from the agent, but a node that changes the mode does not inherit the other mode's threshold or eagerness. OpenAI Realtime gets a `session.update` with the new turn detection when the call enters the node (and the agent's again when it leaves for a node without one); Ultravox sets its VAD once per call, so it keeps the agent's settings in the node (VF207 warns when the provider fallback names it); the local provider hears whole simulated utterances, so turn detection does not change what it hears.",
        'node card_number\n  task "Ask for the 16-digit card number."\n  turn\n    eagerness low\n    silence 2s',
    ),
    _e(
        "knowledge top",
        "The knowledge collection `knowledge_search` reads, and how many passages it returns.",
        'knowledge "clinic_faq" top 4',
    ),
    _e(
        "tool http",
        "Declares an HTTP tool: name, method, templated URL, then its items.",
        'tool lookup http GET "https://api.example/orders/{{ id }}"',
    ),
    _e(
        "GET POST PUT PATCH DELETE",
        "The HTTP method of a tool; retries are honoured only for GET, PUT and DELETE.",
        'tool book http POST "https://api.example/bookings"',
    ),
    _e(
        "description",
        "What a node, tool or parameter is for (tools and params: shown to the model).",
        'description "Look up an order by its number"',
    ),
    _e(
        "param",
        "A typed parameter of an HTTP tool or of an intent (the model fills it; an intent's params become slots).",
        'param order_id: digits "The order number"',
    ),
    _e(
        "header body",
        "An HTTP tool's request header and body templates; secrets are read as `env.NAME` at call time.",
        'header "Authorization" "Bearer {{ env.TOKEN }}"',
    ),
    _e(
        "timeout retries",
        "An HTTP tool's time limit per attempt and extra attempts.",
        "timeout 3s\nretries 2",
    ),
    _e(
        "response",
        "Maps a result field of an HTTP tool to a dotted path in the JSON response; `<into>.<field>` is then checked against these fields.",
        'response status = "data.status"',
    ),
    _e(
        "on_error",
        "The node an HTTP tool's failure leads to (see also `on tool_error`).",
        "on_error lookup_failed",
    ),
    _e(
        "global",
        "Transitions valid in every node (opt-out, a person, the call's retry budget).",
        'global\n  on opt_out "The caller asks not to be called" -> opted_out',
    ),
    _e("node", "A step of the call; its fields are listed under Node fields.", "node greet"),
    _e(
        "say",
        "A line spoken verbatim (a template); in a node body, in order on entry.",
        'say "Hi {{ contact.first_name }}."',
    ),
    _e(
        "task",
        "What the model should do in this node (a template).",
        'task "Ask whether they can make it."',
    ),
    _e("tools", "Tools the model may call in this node.", "tools knowledge_search, lookup"),
    _e(
        "enter",
        "Actions run on entry (in .flow, actions written directly in the node body land here).",
        "enter\n  call opt_out",
    ),
    _e(
        "collect",
        "A typed slot the node collects from the caller, with its prompt, validation and re-asks.",
        'collect day: date "The day to come"',
    ),
    _e("prompt", "What to say when a slot is missing.", 'prompt "Which day suits you?"'),
    _e(
        "validate",
        "A condition over the candidate value (`value`) the slot must meet.",
        'validate weekday(value) != "sun"',
    ),
    _e(
        "invalid",
        "What to say when a value fails validation; reads the refused `value`.",
        'invalid "We are closed on {{ value | day }}."',
    ),
    _e(
        "max_asks",
        "How many times a slot is asked for before `on no_match` (or the fallback).",
        "max_asks 3",
    ),
    _e(
        "set",
        "Sets a flow variable or a slot; `set slots.x = null` clears a slot so its node asks again.",
        "set vars.total = slots.count * 12",
    ),
    _e(
        "call into",
        "Calls a tool (built-in or HTTP) with named arguments, checked against its signature; `into` binds its typed result.",
        "call lookup(id = slots.order) into order",
    ),
    _e("outcome", "Sets the call's outcome without hanging up.", "outcome promised"),
    _e(
        "transfer",
        "Transfers the call (number, SIP URI or extension, templated) and ends it.",
        'transfer "+15550100"',
    ),
    _e("end", "Hangs up, optionally setting the outcome first.", "end confirmed"),
    _e(
        "on",
        "Starts a transition: an intent name, `dtmf`, `silence`, `no_match`, `tool_error`, `failures`, `clarify` or `chitchat`.",
        'on confirms "The caller confirms" -> confirmed',
    ),
    _e(
        "when",
        "A transition decided by the engine when its condition holds (see Events).",
        "when slots.day != null -> confirm",
    ),
    _e("dtmf", "A transition on a key sequence, or `any`.", 'on dtmf "1" -> billing'),
    _e(
        "silence",
        "A transition after no input for a duration, with re-prompts; in `provider` or a node's `turn`, the pause that ends the caller's turn (server VAD's silence duration, Ultravox's turn endpoint delay).",
        'on silence 6s reprompt "Still there?" max 2 -> goodbye',
    ),
    _e(
        "no_match",
        "A transition when the caller's answer fits nothing, after `max` re-prompts.",
        'on no_match reprompt "Sorry?" max 1 -> goodbye',
    ),
    _e(
        "tool_error",
        "A transition when a tool fails (any tool, or the one named).",
        "on tool_error book_appointment -> booking_failed",
    ),
    _e(
        "failures",
        "The retry budget: taken at the `max`-th failure (silence, no match, refused value) of the node visit, or of the call in `global`.",
        "on failures max 3 -> desk",
    ),
    _e(
        "clarify",
        "What happens when two intents are too close to choose: the question to ask (reads `clarify.first` and `clarify.second`), a node to go to instead, or `off` (the likelier intent is taken).",
        'on clarify "Did you mean {{ clarify.first }}, or {{ clarify.second }}?"',
    ),
    _e(
        "chitchat",
        "What happens on small talk: the answer to say (reads `chitchat.topic` and `chitchat.answer`) before the question is asked again, a node to go to instead, or `off` (a no-match).",
        'on chitchat "{{ chitchat.answer }} Now, back to your booking."',
    ),
    _e(
        "off",
        "Turns `on clarify` or `on chitchat` off, in one node or (in `global`) the whole flow.",
        "global\n  on chitchat off",
    ),
    _e(
        "on_change",
        "What a correction of a filled slot does: `rerun` (default) goes back to the earliest node visited since the slot was filled that reads it; `keep` only changes the value. At agent level, the default of every slot; under `collect`, one slot's.",
        "collect day: date\n  on_change keep",
    ),
    _e(
        "reprompt max",
        "The re-prompt of `on silence` / `on no_match` and how many times it is said before leaving; `max` is also the count of `on failures` and of a retry rule.",
        'on silence 8s reprompt "Are you there?" max 2 -> goodbye',
    ),
    _e(
        "examples",
        "Sample phrases of an intent (the model and the local provider use them).",
        'examples "yes", "sure", "that works"',
    ),
    _e(
        "do",
        "Actions run when a transition is taken, before entering its target.",
        'on restart "..." -> ask\n  do\n    set slots.day = null',
    ),
    _e(
        "flow",
        "Declares a sub-flow: typed parameters, typed results, its own start and nodes. It "
        "reads `params.<name>`, its own `slots.<name>` and `now`; everything else is passed "
        "in. Called with `call <flow>(...) into x -> next`; global transitions still apply "
        "inside it and leave it.",
        "flow identity(birth_date: date) -> (verified: bool)\n  start ask\n  node ask\n    ...",
    ),
    _e(
        "import from",
        "Brings sub-flows of another flow file (relative path), with the sub-flows they call; "
        "they read only what they are passed, so they work in any agent. `fmt` keeps the "
        "import.",
        'import identity, payment_card from "common/identity.flow"',
    ),
    _e(
        "return",
        "Leaves the running sub-flow with its results; the caller continues at its `-> node` "
        "and reads them as `<into>.<result>`.",
        "return(verified = true)",
    ),
    _e(
        "campaign",
        "Starts the outbound campaign section: contacts, windows, pacing, rules.",
        "campaign november",
    ),
    _e(
        "contacts csv xlsx postgres",
        "Where the contacts come from: a CSV or XLSX file (relative to the flow) or a PostgreSQL table.",
        'contacts csv "contacts/november.csv"',
    ),
    _e(
        "phone id name none",
        "Contact column options: which column holds the phone, id, time zone or name; `none` for no such column.",
        'contacts csv "c.csv"\n  phone mobile\n  timezone none',
    ),
    _e("region", "The phone region for numbers written without a country code.", "region GB"),
    _e(
        "window local",
        "A calling window in the contact's local time (days, hours).",
        "window mon-fri 09:00-18:00 local",
    ),
    _e(
        "holidays holiday",
        "Public holiday calendars (ISO countries) and explicit dates with no calls.",
        "holidays US, GB\nholiday 2026-12-24",
    ),
    _e(
        "pacing concurrent per_minute ramp step every",
        "How fast the campaign dials: concurrent calls, calls per minute, a ramp from a start count by `step` every interval.",
        "pacing concurrent 10 per_minute 30 ramp 2 step 1 every 1m",
    ),
    _e(
        "amd hangup leave_message continue",
        "What to do when a machine answers: hang up, run a node that leaves a message, or continue.",
        "amd leave_message voicemail",
    ),
    _e("caller_id", "The number shown to the callee.", 'caller_id "+12125550100"'),
    _e("max_attempts", "A cap on attempts per contact, whatever the outcomes.", "max_attempts 4"),
    _e("ring_timeout", "How long to ring before `no_answer`.", "ring_timeout 30s"),
    _e(
        "retry after",
        "An outcome rule: try again after a delay, at most `max` times.",
        "on busy retry after 15m max 3",
    ),
    _e(
        "callback dnc final",
        "Outcome rules: call back at the time asked for; add to do-not-call; stop.",
        "on opted_out dnc",
    ),
)

NODE_FIELDS: tuple[Entry, ...] = (
    _e(
        "description",
        "What the node is for (graphs, studio).",
        "description: Confirms the appointment",
    ),
    _e("say", "Lines spoken verbatim on entry, in order.", "say: Hi {{ contact.first_name }}."),
    _e("task", "The model's instruction in this node.", "task: Ask whether they can make it."),
    _e(
        "collect",
        "Slots collected, by name: a type or {type, prompt, validate, invalid, max_asks, required, description}.",
        "collect:\n  day: {type: date, prompt: Which day?}",
    ),
    _e("tools", "Tools the model may call here.", "tools: [knowledge_search]"),
    _e("enter", "Actions run on entry.", "enter:\n  - call: opt_out"),
    _e(
        "turn",
        "This node's turn detection over the agent's: {turn_detection, vad_threshold, eagerness, silence, prefix_padding} (see the `turn` keyword).",
        "turn:\n  turn_detection: semantic_vad\n  eagerness: low\n  silence: 2s",
    ),
    _e(
        "on",
        "The node's transitions, in order.",
        "on:\n  - intent: confirms\n    description: The caller confirms\n    to: confirmed",
    ),
)

SLOT_FIELDS: tuple[Entry, ...] = (
    _e("type", "The slot's type (see Types); a trailing `?` makes it optional.", "type: date"),
    _e("prompt", "What to ask when the slot is missing.", "prompt: Which day?"),
    _e("validate", "A condition over `value`.", 'validate: weekday(value) != "sun"'),
    _e(
        "invalid",
        "What to say when `value` fails validation (it may read `value`).",
        "invalid: We are closed on {{ value | day }}.",
    ),
    _e("max_asks", "Asks before giving up (default 3).", "max_asks: 2"),
    _e("required", "Whether the node waits for it (default true).", "required: false"),
    _e(
        "on_change",
        "What a correction does: `rerun` (default: the agent's `on_change`) or `keep`.",
        "on_change: keep",
    ),
    _e(
        "description",
        "What the slot means (shown to the model).",
        "description: The day of the visit",
    ),
)

EVENTS: tuple[Entry, ...] = (
    _e(
        "intent",
        "The model decides: the caller means this (a function tool with a description, examples and params). Node intents are offered before global ones; a parameter that fills a collected slot is validated as the slot declares (a refused correction is not taken).",
        'on confirms "The caller confirms" -> confirmed',
    ),
    _e(
        "when",
        "The engine decides, never the model. On entry and after every change, the node's `when` transitions are tried in order, but only once its required slots are filled; then the global ones. The first that holds is taken; one without target fires once per visit.",
        "when slots.amount > 100 -> supervisor",
    ),
    _e(
        "dtmf",
        "A key sequence; a longer sequence is awaited while it may still match; `any` takes the rest (`vars.last_dtmf`). For a missing `digits`/`int` slot, keys up to `#` fill it.",
        'on dtmf "0" -> desk',
    ),
    _e(
        "silence",
        "No input for the duration: re-prompt `max` times, then leave. Counts as a failure.",
        'on silence 6s reprompt "Still there?" max 2 -> goodbye',
    ),
    _e(
        "no_match",
        "The answer fitted no option, `max` + 1 times in a row. Counts as a failure.",
        'on no_match reprompt "Sorry?" max 1 -> goodbye',
    ),
    _e(
        "tool_error",
        "A tool failed or did not answer in time; `tool_error.tool` and `tool_error.message` say which and why. Without one, a failed `call` sets the outcome `tool_error` and goes to the fallback.",
        "on tool_error lookup -> lookup_failed",
    ),
    _e(
        "clarify",
        "Two intents were too close to choose (the provider says which, instead of guessing). Without a target, the engine asks which one the caller meant (this wording, else `Sorry, just to be sure: <first>, or <second>?` from the intents' descriptions) and the answer takes the chosen intent with the parameters the first words gave; asked again right away, it is a no-match. With a target it leaves instead; `off` takes the likelier intent. The node's, else the global one. Realtime models are told to call `clarify` rather than guess.",
        'on clarify "Sorry, did you mean {{ clarify.first }}, or {{ clarify.second }}?"',
    ),
    _e(
        "chitchat",
        "Small talk (how are you, are you a robot, the weather): answered briefly (this wording, else a built-in answer per topic: greeting, wellbeing, identity, weather, other), then the interrupted question is asked again; not a failure, up to 3 times a node visit. With a target it leaves instead; `off` makes it a no-match. The local provider recognises it offline.",
        'on chitchat "{{ chitchat.answer }} So, which day suits you?"',
    ),
    _e(
        "failures",
        "The retry budget: silence, no-match and refused values together. In a node, the failures of this visit; in `global`, of the whole call. Taken at the `max`-th failure instead of its re-prompt; the node's budget is checked before the call's, and a spent budget counts again from zero.",
        "on failures max 3 -> desk",
    ),
)

ACTIONS: tuple[Entry, ...] = (
    _e(
        "return",
        "Leave the sub-flow with result values (after the node's say lines).",
        "return(verified = slots.dob == params.birth_date)",
    ),
    _e(
        "set",
        "Set `vars.<name>` or `slots.<name>` (checked: declared, same type); `null` clears a slot.",
        "set slots.day = null",
    ),
    _e(
        "call",
        "Call a tool or a sub-flow with named arguments (checked against its signature); "
        "`into` binds the typed result; a sub-flow call continues at `-> node` after its return "
        "or, written in a transition's `do` without `-> node`, comes back to the question it "
        "interrupted (a digression).",
        "call schedule_callback(when = slots.at) into cb",
    ),
    _e("say", "Speak a line (a template).", 'say "Thanks!"'),
    _e("outcome", "Set the outcome.", "outcome promised"),
    _e("transfer", "Transfer and end (entry actions: after the say lines).", 'transfer "100"'),
    _e(
        "end",
        "Hang up, optionally with an outcome (entry actions: after the say lines).",
        "end confirmed",
    ),
)

FUNCTIONS: tuple[Entry, ...] = (
    _e("len", "Length of a text or list.", "len(slots.pin) == 4"),
    _e(
        "lower upper trim",
        "Text in lower or upper case, or without surrounding spaces.",
        'lower(slots.answer) == "yes"',
    ),
    _e("abs", "Absolute value of a number or duration.", "abs(vars.delta) < 5"),
    _e(
        "min max",
        "Smallest or largest of values of one kind, or of one list.",
        "max(1, slots.count)",
    ),
    _e("round", "Round to an int, or to `n` digits.", "round(vars.total, 2)"),
    _e("int float str", "Convert to int, float or text.", "int(slots.digits) > 100"),
    _e("digits_only", "The digits of a text.", 'digits_only(slots.phone) != ""'),
    _e(
        "starts_with ends_with",
        "Whether a text starts or ends with another.",
        'starts_with(contact.phone, "+44")',
    ),
    _e("weekday", "`mon` ... `sun` of a date or datetime.", 'weekday(value) != "sun"'),
    _e("date_of time_of", "The date or clock time of a datetime.", "date_of(now()) == slots.day"),
    _e("hour_of minute_of", "The hour or minute of a datetime or time.", "hour_of(now()) < 12"),
    _e(
        "now today",
        "The call's current datetime and date (from events, so replays agree).",
        "value <= today() + 14d",
    ),
    _e("coalesce", "The first value that is not null.", "coalesce(slots.name, contact.first_name)"),
)

FILTERS: tuple[Entry, ...] = (
    _e(
        "day",
        "A date as said: `Tuesday, November 24th` (the year when not this year).",
        "{{ contact.due | day }}",
    ),
    _e("time", "A time as said: `3 PM`, `9:30 AM`.", "{{ contact.due | time }}"),
    _e("when", "A datetime relative to now: `tomorrow at 3 PM`.", "{{ slots.callback_at | when }}"),
    _e("digits", "Digits one by one: `4 1 7 2`.", "{{ booking.reference | digits }}"),
    _e("phone", "A phone number in spoken groups.", "{{ contact.phone | phone }}"),
    _e("money", "An amount: `12 dollars and 50 cents`.", "{{ contact.balance | money }}"),
    _e("duration", "A duration: `1 hour and 30 minutes`.", "{{ vars.wait | duration }}"),
)

OUTCOMES: tuple[Entry, ...] = (
    _e("opted_out", "The caller asked not to be called again (`opt_out`).", "on opted_out dnc"),
    _e("callback", "A callback was scheduled (`schedule_callback`).", "on callback callback"),
    _e(
        "transferred",
        "The call was transferred and the flow set no outcome of its own.",
        "on transferred final",
    ),
    _e(
        "hung_up",
        "The callee hung up before the flow set an outcome.",
        "on hung_up retry after 1h max 1",
    ),
    _e("wrong_person", "The person who answered is not the contact.", "on wrong_person dnc"),
    _e(
        "provider_error",
        "The AI provider failed and no fallback provider could take the call.",
        "on provider_error retry after 30m max 2",
    ),
    _e(
        "tool_error",
        "A tool the flow called failed and the flow has no `on tool_error` for it.",
        "on tool_error retry after 1h max 1",
    ),
    _e("completed", "The flow ended without naming an outcome.", "on completed final"),
    _e(
        "no_answer busy rejected congestion failed",
        "Telephony: nobody answered, busy, refused, network congestion, or the call could not be placed.",
        "on no_answer retry after 2h max 3",
    ),
    _e(
        "voicemail machine",
        "Telephony: a voicemail or answering machine answered.",
        "on voicemail retry after 4h max 2",
    ),
    _e(
        "unknown",
        "Telephony: the attempt's result is unknown (e.g. after a crash); settled by the rules, never re-dialled on the spot.",
        "on unknown retry after 1h max 1",
    ),
)

CAMPAIGN_RULES: tuple[Entry, ...] = (
    _e(
        "retry",
        "Try again after a delay, at most `max` attempts for this outcome.",
        "on busy retry after 15m max 3",
    ),
    _e(
        "callback",
        "Call back at the time the callee asked for (within the windows).",
        "on callback callback",
    ),
    _e("dnc", "Add the number to do-not-call; no more attempts.", "on opted_out dnc"),
    _e("final", "Stop: the contact is done.", "on confirmed final"),
)
