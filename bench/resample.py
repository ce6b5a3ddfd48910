"""Resampler bench: soxr's qualities for telephone audio, through ``telephony.audio.Resampler``.

Run: ``.venv/bin/python bench/resample.py [--streams 200] [--seconds 5] [--repeat 3]
[--quality QQ LQ MQ HQ VHQ] [--chunks 20 40]``

For each quality and each direction the runtime uses (8 → 24 kHz: caller audio into
``pcm24k``; 24 → 8 kHz: agent audio to the phone; 16 → 8 kHz: a 16 kHz provider's audio), and
for 20 ms and 40 ms input chunks (the bridge now hands soxr caller audio 40 ms at a time;
``--chunks 100`` for the agent's 100 ms deltas as the playout buffer gets them), it prints:

* CPU per call-second: ``time.thread_time`` over ``--streams`` streams fed round-robin, one
  chunk each per step, like one event loop serving many calls (noise as input); the lowest
  of ``--repeat`` runs;
* latency held: in steady state (after the first second), the audio that went in but has not
  come out yet, in ms (mean and max over the chunk boundaries);
* passband: the gain of tones from 100 Hz to 3.4 kHz (the telephone band), streamed through
  20 ms chunks and measured by least squares against a sine and cosine at the tone's
  frequency; printed as the worst deviation from 0 dB;
* aliasing (downsampling only): tones from 4.5 kHz up to just under the input's Nyquist
  frequency, which must not survive; the output's energy relative to the input tone's, in dB,
  the worst tone printed. For scale, the SNR of a tone through G.711 μ-law and back
  (``telephony/audio/g711.py``) is printed first: the phone's own noise floor.

The load average is printed first: the CPU figure is the thread's own clock, but a busy
machine still slows caches and frequency.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from telephony.audio import AudioFrame, Resampler
from telephony.audio.g711 import SAMPLE_WIDTH, lin2ulaw, ulaw_decode

QUALITIES = ("QQ", "LQ", "MQ", "HQ", "VHQ")
DIRECTIONS = ((8000, 24000), (24000, 8000), (16000, 8000))
TELEPHONE_BAND = (100, 3400)
AMPLITUDE = 10000


def tone(freq: float, rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (AMPLITUDE * np.sin(2 * np.pi * freq * t)).astype("<i2")


def stream(resampler: Resampler, pcm: np.ndarray, rate: int, chunk_ms: int) -> np.ndarray:
    step = rate * chunk_ms // 1000
    out = [
        resampler.process(AudioFrame(pcm[i : i + step].tobytes(), rate)).pcm
        for i in range(0, len(pcm), step)
    ]
    out.append(resampler.flush().pcm)
    return np.frombuffer(b"".join(out), dtype="<i2").astype(np.float64)


def tone_gain_db(out: np.ndarray, freq: float, rate: int) -> float:
    """Amplitude of ``freq`` in ``out`` (the middle half, away from the edges), in dB re input."""
    mid = out[len(out) // 4 : 3 * len(out) // 4]
    t = (np.arange(len(mid)) + len(out) // 4) / rate
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, mid, rcond=None)
    return 20 * np.log10(np.hypot(*coef) / AMPLITUDE)


def passband_db(src: int, dst: int, quality: str) -> tuple[float, float]:
    """(lowest, highest) gain in dB of tones over the telephone band."""
    gains = []
    for freq in range(TELEPHONE_BAND[0], TELEPHONE_BAND[1] + 1, 100):
        out = stream(Resampler(src, dst, quality), tone(freq, src, 1.0), src, 20)
        gains.append(tone_gain_db(out, freq, dst))
    return min(gains), max(gains)


def alias_db(src: int, dst: int, quality: str) -> tuple[float, float]:
    """Worst (output energy / input tone energy) in dB over tones between 4.5 kHz and src/2,
    and the tone it came from."""
    worst = (-np.inf, 0.0)
    for freq in np.arange(4500, src / 2 - 249, 250):
        pcm = tone(freq, src, 1.0)
        out = stream(Resampler(src, dst, quality), pcm, src, 20)
        mid = out[len(out) // 4 : 3 * len(out) // 4]
        ratio = np.mean(mid**2) / np.mean(pcm.astype(np.float64) ** 2)
        db = 10 * np.log10(max(ratio, 1e-20))
        worst = max(worst, (db, float(freq)))
    return worst


def held_ms(src: int, dst: int, quality: str, chunk_ms: int) -> tuple[float, float]:
    """Audio in minus audio out, in ms, at each chunk boundary after the first second."""
    resampler = Resampler(src, dst, quality)
    step = src * chunk_ms // 1000
    pcm = tone(1000, src, 4.0)
    taken = given = 0
    held = []
    for i in range(0, len(pcm), step):
        given += step
        taken += len(resampler.process(AudioFrame(pcm[i : i + step].tobytes(), src)).pcm) // 2
        if given >= src:
            held.append(given * 1000 / src - taken * 1000 / dst)
    return float(np.mean(held)), float(np.max(held))


def cpu_per_call_second(
    src: int, dst: int, quality: str, chunk_ms: int, streams: int, seconds: float
) -> float:
    """Thread CPU ms per call-second over ``streams`` resamplers fed round-robin."""
    rng = np.random.default_rng(1)
    step = src * chunk_ms // 1000
    # Making a fresh chunk per step would cost more than resampling it: 50 chunks, reused.
    noise = (rng.standard_normal(step * 50) * 3000).clip(-32768, 32767).astype("<i2")
    chunks = [AudioFrame(noise[i : i + step].tobytes(), src) for i in range(0, len(noise), step)]
    resamplers = [Resampler(src, dst, quality) for _ in range(streams)]
    steps = int(seconds * 1000 / chunk_ms)
    for r in resamplers:  # warm up: past the filter's start-up
        for chunk in chunks[:5]:
            r.process(chunk)
    start = time.thread_time()
    for n in range(steps):
        chunk = chunks[n % len(chunks)]
        for r in resamplers:
            r.process(chunk)
    used = time.thread_time() - start
    return used * 1000 / (streams * seconds)


def g711_snr_db(amplitude: int) -> float:
    """Signal to noise of a 1 kHz tone at ``amplitude`` through μ-law and back (the phone's own
    floor, for scale against the aliasing figures)."""
    t = np.arange(8000) / 8000
    pcm = (amplitude * np.sin(2 * np.pi * 1000 * t)).astype("<i2")
    back = np.frombuffer(ulaw_decode(lin2ulaw(pcm.tobytes(), SAMPLE_WIDTH)).pcm, dtype="<i2")
    err = back.astype(np.float64) - pcm
    return 10 * np.log10(np.mean(pcm.astype(np.float64) ** 2) / np.mean(err**2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--quality", nargs="+", default=list(QUALITIES), choices=QUALITIES)
    parser.add_argument("--chunks", type=int, nargs="+", default=[20, 40], help="input chunk ms")
    parser.add_argument(
        "--repeat", type=int, default=3, help="CPU runs per row; the lowest is printed"
    )
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}, {args.streams} streams x {args.seconds} s")
    snr = ", ".join(f"{g711_snr_db(a):.1f} dB at amplitude {a}" for a in (AMPLITUDE, 1000, 100))
    print(f"G.711 mu-law round trip, 1 kHz tone: SNR {snr}")
    header = (
        f"{'direction':>10} {'quality':>7} {'chunk':>5} {'CPU ms/call-s':>13} "
        f"{'held mean/max ms':>16} {'passband dB':>15} {'alias dB (tone)':>18}"
    )
    print(header)
    for src, dst in DIRECTIONS:
        for quality in args.quality:
            low, high = passband_db(src, dst, quality)
            alias = "-"
            if dst < src:
                db, freq = alias_db(src, dst, quality)
                alias = f"{db:6.1f} ({freq / 1000:.2f}k)"
            for chunk_ms in args.chunks:
                cpu = min(
                    cpu_per_call_second(src, dst, quality, chunk_ms, args.streams, args.seconds)
                    for _ in range(args.repeat)
                )
                mean, worst = held_ms(src, dst, quality, chunk_ms)
                print(
                    f"{src // 1000:>4}->{dst // 1000:<4} {quality:>7} {chunk_ms:>3}ms "
                    f"{cpu:>13.3f} {mean:>8.1f}/{worst:<7.1f} "
                    f"{low:+6.2f}..{high:+5.2f} {alias:>18}",
                    flush=True,
                )
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
