"""Simulated speech: text carried as decodable audio, for offline demos and tests.

The local provider and the simulated callees exchange "speech" as real audio frames, and each
side *decodes* what it hears; nothing is passed around the audio path. The modulation is a
dual-tone multi-frequency shift keying designed to survive the telephone path voxflow builds
(8 kHz slin, 20 ms framing, soxr resampling 8→24→8 kHz):

* symbol = 40 samples at 8 kHz (5 ms, 200 symbols/s), two simultaneous tones: one of 8 low
  tones (400..1800 Hz) and one of 8 high tones (2000..3400 Hz), spaced 200 Hz (orthogonal over
  a symbol), so each symbol carries 6 bits -- about 150 bytes/s raw;
* an utterance = preamble (8 symbols of 1000 Hz then 1 symbol of 2600 Hz, single tones; the
  1000→2600 Hz step gives sample-exact alignment), then ``length`` (u16 BE), the UTF-8 text
  and a CRC-16/CCITT (``binascii.crc_hqx``) over length and text, packed 6 bits per symbol;
* the length field marks the end (no end tone), followed by one silent symbol so the last
  symbol decodes without waiting for more audio; a bad CRC drops the utterance;
* an utterance cut short (barge-in: the sender stops mid-way) is abandoned as soon as two
  consecutive symbol slots hold silence or a single tone instead of two data tones, and the
  search for a preamble resumes at the first of them, so the next utterance decodes whether it
  follows after silence or straight away.

A 60-character line lasts about 0.47 s (≈ 130 chars/s including the preamble).

``SimSpeechDecoder.speaking`` turns true as soon as a preamble is heard and false when the
utterance is complete (or rejected): the local provider uses it as voice activity for barge-in.
"""

from __future__ import annotations

import binascii
import struct

import numpy as np
import soxr
from numpy.lib.stride_tricks import sliding_window_view

from telephony.audio.frames import AudioFrame
from telephony.audio.resample import Resampler

BASE_RATE = 8000
SYMBOL = 40
"""Samples per symbol at 8 kHz."""
GUARD = 4
"""Samples ignored at each end of a symbol when decoding (alignment and filter slack)."""
LOW_TONES = np.array([400 + 200 * i for i in range(8)], dtype=float)
HIGH_TONES = np.array([2000 + 200 * i for i in range(8)], dtype=float)
SYNC_A = 1000.0
SYNC_B = 2600.0
PREAMBLE_A_SYMBOLS = 8
AMPLITUDE = 12000.0
MAX_TEXT_BYTES = 4096
_DETECT_RATIO = 0.6
_MIN_RMS = 500.0
_TONE_BALANCE = 0.25
"""A data symbol's weaker tone is at least this fraction of its stronger one (nominally 1)."""
_ABANDON_AFTER = 2
"""Consecutive non-data symbols (silence or a single tone) after which a frame is abandoned."""


def _tone(freq: float, n: int, amp: float) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(n) / BASE_RATE)


def _bits_to_symbols(payload: bytes) -> list[int]:
    bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))
    bits = np.concatenate([bits, np.zeros(-len(bits) % 6, dtype=np.uint8)])
    return [int(v) for v in bits.reshape(-1, 6) @ np.array([32, 16, 8, 4, 2, 1])]


def encode(text: str, rate: int = BASE_RATE) -> bytes:
    """s16le mono audio at ``rate`` that :class:`SimSpeechDecoder` decodes back to ``text``."""
    raw = text.encode("utf-8")
    if len(raw) > MAX_TEXT_BYTES:
        raise ValueError(f"simulated speech carries at most {MAX_TEXT_BYTES} bytes per utterance")
    body = struct.pack(">H", len(raw)) + raw
    body += struct.pack(">H", binascii.crc_hqx(body, 0xFFFF))
    parts = [
        _tone(SYNC_A, SYMBOL * PREAMBLE_A_SYMBOLS, AMPLITUDE),
        _tone(SYNC_B, SYMBOL, AMPLITUDE),
    ]
    for symbol in _bits_to_symbols(body):
        low, high = LOW_TONES[symbol >> 3], HIGH_TONES[symbol & 7]
        parts.append(_tone(low, SYMBOL, AMPLITUDE / 2) + _tone(high, SYMBOL, AMPLITUDE / 2))
    parts.append(np.zeros(SYMBOL))  # a silent tail: the last symbol decodes without more audio
    signal = np.concatenate(parts)
    if rate != BASE_RATE:
        signal = soxr.resample(signal, BASE_RATE, rate)
    return np.clip(np.round(signal), -32768, 32767).astype("<i2").tobytes()


def utterance_ms(text: str) -> float:
    """How long :func:`encode` of ``text`` plays, in milliseconds."""
    body_bytes = len(text.encode("utf-8")) + 4
    symbols = PREAMBLE_A_SYMBOLS + 1 + -(-body_bytes * 8 // 6) + 1
    return symbols * SYMBOL * 1000 / BASE_RATE


def _basis(freqs: np.ndarray, n: int) -> np.ndarray:
    t = np.arange(n) / BASE_RATE
    return np.exp(-2j * np.pi * np.outer(freqs, t))


_INNER = SYMBOL - 2 * GUARD
_LOW_BASIS = _basis(LOW_TONES, _INNER)
_HIGH_BASIS = _basis(HIGH_TONES, _INNER)
_SYNC_BASIS = _basis(np.array([SYNC_A, SYNC_B]), SYMBOL)


def _is_data_symbol(w: np.ndarray, low_mag: float, high_mag: float) -> bool:
    """Whether ``w`` holds a data symbol: audible and one low plus one high tone of like level."""
    if float(w @ w) <= len(w) * _MIN_RMS**2:
        return False
    return min(low_mag, high_mag) >= _TONE_BALANCE * max(low_mag, high_mag)


class SimSpeechDecoder:
    """Incremental decoder: feed PCM of any chunking at ``rate``; get complete utterances."""

    def __init__(self, rate: int = BASE_RATE) -> None:
        self.rate = rate
        self._resampler = Resampler(rate, BASE_RATE) if rate != BASE_RATE else None
        self._buf = np.zeros(0)
        self._base = 0
        """Absolute sample index of ``_buf[0]``."""
        self._pos = 0
        self._state = "search"
        self._hits = 0
        self._sync_from = 0
        self._symbols: list[int] = []
        self._data_start = 0
        self._needed = 0
        self._invalid_run = 0
        """Consecutive data-slot symbols that were silence or a single tone, not data."""
        self.speaking = False
        self.rejected = 0
        """Utterances dropped for a bad CRC or length (for diagnostics)."""

    def feed(self, pcm: bytes) -> list[str]:
        if self._resampler is not None:
            pcm = self._resampler.process(AudioFrame(pcm, self.rate)).pcm
        samples = np.frombuffer(pcm, dtype="<i2").astype(float)
        self._buf = np.concatenate([self._buf[self._pos - self._base :], samples])
        self._base = self._pos
        out: list[str] = []
        while True:
            progressed, text = self._step()
            if text is not None:
                out.append(text)
            if not progressed:
                return out

    def _have(self, end: int) -> bool:
        return self._base + len(self._buf) >= end

    def _window(self, start: int, n: int) -> np.ndarray:
        i = start - self._base
        return self._buf[i : i + n]

    def _step(self) -> tuple[bool, str | None]:
        if self._state == "search":
            return self._search(), None
        if self._state == "sync":
            return self._sync(), None
        return self._data()

    def _search(self) -> bool:
        if not self._have(self._pos + SYMBOL):
            return False
        w = self._window(self._pos, SYMBOL)
        energy = float(w @ w)
        if energy > SYMBOL * _MIN_RMS**2:
            mag = abs(_SYNC_BASIS[0] @ w) ** 2
            ratio = mag / (energy * SYMBOL / 2)
            self._hits = self._hits + 1 if ratio > _DETECT_RATIO else 0
        else:
            self._hits = 0
        if self._hits >= 2:
            self._state = "sync"
            self._sync_from = self._pos
            self.speaking = True
            self._hits = 0
            return True
        self._pos += SYMBOL // 2
        return True

    def _sync(self) -> bool:
        lo = self._sync_from
        hi = lo + (PREAMBLE_A_SYMBOLS + 2) * SYMBOL
        if not self._have(hi + SYMBOL):
            return False
        seg = self._window(lo, hi - lo + SYMBOL)
        windows = sliding_window_view(seg, SYMBOL)
        a = np.abs(windows @ _SYNC_BASIS[0]) / (AMPLITUDE * SYMBOL / 2)
        b = np.abs(windows @ _SYNC_BASIS[1]) / (AMPLITUDE * SYMBOL / 2)
        # boundary t: A fills [t-40, t) and B fills [t, t+40); the sum peaks only at the step.
        score = a[: len(a) - SYMBOL] + b[SYMBOL:]
        best = int(np.argmax(score))
        if best >= len(score) - SYMBOL:
            # The step may lie past the window (a longer 1000 Hz run: a preamble cut short and
            # followed at once by a new one), with only part of the 2600 Hz tone inside it.
            self._sync_from += SYMBOL
            self._pos = self._sync_from
            return True
        if score[best] < 1.4:
            self._fail(lo + SYMBOL)
            return True
        boundary = lo + best + SYMBOL
        self._data_start = boundary + SYMBOL
        self._symbols = []
        self._invalid_run = 0
        self._needed = 3
        self._state = "data"
        self._pos = self._data_start
        return True

    def _data(self) -> tuple[bool, str | None]:
        start = self._data_start + len(self._symbols) * SYMBOL
        if not self._have(start + SYMBOL - GUARD):
            return False, None
        w = self._window(start + GUARD, _INNER)
        low_mags, high_mags = np.abs(_LOW_BASIS @ w), np.abs(_HIGH_BASIS @ w)
        low, high = int(np.argmax(low_mags)), int(np.argmax(high_mags))
        self._symbols.append(low << 3 | high)
        if _is_data_symbol(w, low_mags[low], high_mags[high]):
            self._invalid_run = 0
            self._pos = start + SYMBOL
        else:
            # Silence or a single tone (a new preamble): the sender was cut off. One odd symbol
            # is left to the CRC; a run of them abandons the frame. ``_pos`` stays on the first
            # odd symbol so the search resumes there and finds a preamble that starts at once.
            self._invalid_run += 1
            if self._invalid_run >= _ABANDON_AFTER:
                self._fail(self._pos)
                return True, None
        if len(self._symbols) == 3:
            length = self._unpack()[0] << 8 | self._unpack()[1]
            if length > MAX_TEXT_BYTES:
                self._fail(self._pos)
                return True, None
            self._needed = -(-(length + 4) * 8 // 6)
        if len(self._symbols) < self._needed:
            return True, None
        body = self._unpack()
        length = body[0] << 8 | body[1]
        message, crc = body[: 2 + length], body[2 + length : 4 + length]
        self._state = "search"
        self.speaking = False
        if struct.pack(">H", binascii.crc_hqx(message, 0xFFFF)) != crc:
            self.rejected += 1
            return True, None
        return True, message[2:].decode("utf-8", errors="replace")

    def _unpack(self) -> bytes:
        bits = np.array(
            [[s >> k & 1 for k in range(5, -1, -1)] for s in self._symbols], dtype=np.uint8
        )
        flat = bits.reshape(-1)
        return np.packbits(flat[: len(flat) - len(flat) % 8]).tobytes()

    def _fail(self, resume_at: int) -> None:
        self.rejected += 1
        self._state = "search"
        self.speaking = False
        self._pos = resume_at
