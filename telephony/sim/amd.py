"""Answering-machine detection as Asterisk's ``AMD()`` does it, for the simulated PBX.

A port of the analysis loop of apps/app_amd.c (Asterisk 22) over 20 ms slin frames, with the
silence test of main/dsp.c (a frame is silent when its mean absolute sample is below
``silence_threshold``). The defaults are those of ``telephony/asterisk/amd.conf``, which are
app_amd's own. So a callee that waits in silence for the agent is a ``MACHINE``
(``INITIALSILENCE``), a short "Hello?" followed by silence is ``HUMAN``, and a greeting longer
than 1.5 s is a ``MACHINE`` (``LONGGREETING``), exactly as on a real Asterisk.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

FRAME_MS = 20


@dataclass(frozen=True)
class AmdSettings:
    """``amd.conf`` ``[general]`` (milliseconds, except the counts and the threshold)."""

    initial_silence: int = 2500
    greeting: int = 1500
    after_greeting_silence: int = 800
    total_analysis_time: int = 5000
    min_word_length: int = 100
    between_words_silence: int = 50
    maximum_number_of_words: int = 2
    silence_threshold: int = 256
    maximum_word_length: int = 5000


@dataclass(frozen=True)
class AmdResult:
    status: str
    """``AMDSTATUS``: ``HUMAN``, ``MACHINE``, ``NOTSURE`` or ``HANGUP``."""
    cause: str
    """``AMDCAUSE``, e.g. ``INITIALSILENCE-2500-2500`` (empty for ``HANGUP``)."""
    analysed_ms: int
    """Audio the analysis consumed before deciding."""


class AmdAnalyser:
    """Feed the callee's frames with :meth:`feed` until it returns a result."""

    def __init__(self, settings: AmdSettings | None = None) -> None:
        self.s = settings or AmdSettings()
        self.result: AmdResult | None = None
        self._total = 0
        self._audio = 0  # app_amd's iTotalTime: only the time frames carried
        self._silence_run = 0  # main/dsp.c totalsilence
        self._in_initial_silence = True
        self._in_greeting = False
        self._voice = 0
        self._silence = 0
        self._words = 0
        self._in_word = True  # app_amd starts in STATE_IN_WORD
        self._consecutive_voice = 0

    def hangup(self) -> AmdResult:
        """The callee hung up while AMD listened."""
        return self._decide("HANGUP", "")

    def idle(self, ms: int) -> AmdResult | None:
        """``ms`` passed without a frame (a line that sends nothing in silence).

        app_amd then stops on the wall clock: ``NOTSURE``, ``NOAUDIODATA`` when no frame came
        at all, else ``TOOLONG`` with the time the frames carried.
        """
        if self.result is not None:
            return self.result
        self._total += ms
        if self._total >= self.s.total_analysis_time:
            kind = "TOOLONG" if self._audio else "NOAUDIODATA"
            return self._decide("NOTSURE", f"{kind}-{self._audio}")
        return None

    def feed(self, pcm: bytes) -> AmdResult | None:
        """One 20 ms frame of 8 kHz slin; the verdict once there is one."""
        if self.result is not None:
            return self.result
        s = self.s
        self._total += FRAME_MS
        self._audio += FRAME_MS
        if self._total >= s.total_analysis_time:
            return self._decide("NOTSURE", f"TOOLONG-{self._audio}")
        samples = array("h", pcm)
        level = sum(abs(x) for x in samples) // max(1, len(samples))
        if level < s.silence_threshold:
            self._silence_run += FRAME_MS
            self._silence = self._silence_run
            if self._silence >= s.between_words_silence:
                self._in_word = False
                self._consecutive_voice = 0
            if self._in_initial_silence and self._silence >= s.initial_silence:
                return self._decide(
                    "MACHINE", f"INITIALSILENCE-{self._silence}-{s.initial_silence}"
                )
            if self._in_greeting and self._silence >= s.after_greeting_silence:
                return self._decide("HUMAN", f"HUMAN-{self._silence}-{s.after_greeting_silence}")
            return None
        self._silence_run = 0
        self._consecutive_voice += FRAME_MS
        self._voice += FRAME_MS
        if self._consecutive_voice >= s.min_word_length and not self._in_word:
            self._words += 1
            self._in_word = True
        if self._consecutive_voice >= s.maximum_word_length:
            return self._decide("MACHINE", f"MAXWORDLENGTH-{self._consecutive_voice}")
        if self._words > s.maximum_number_of_words:
            return self._decide("MACHINE", f"MAXWORDS-{self._words}-{s.maximum_number_of_words}")
        if self._in_greeting and self._voice >= s.greeting:
            return self._decide("MACHINE", f"LONGGREETING-{self._voice}-{s.greeting}")
        if self._voice >= s.min_word_length:
            self._silence = 0
        if self._consecutive_voice >= s.min_word_length and not self._in_greeting:
            self._in_initial_silence = False
            self._in_greeting = True
        return None

    def _decide(self, status: str, cause: str) -> AmdResult:
        self.result = AmdResult(status, cause, self._total)
        return self.result
