"""The stand-ins' loudness check gives the exact RMS comparison's answer, only faster."""

import numpy as np

from tests.standins.harness import louder_than, rms, tone


def test_louder_than_agrees_with_the_exact_rms_everywhere_and_at_the_threshold() -> None:
    rng = np.random.default_rng(18)
    cases = [tone(20, 8000), bytes(320), b"", b"\x01", tone(40, 24000) + b"x"]
    for _ in range(3000):
        amplitude = rng.uniform(0, 1500)
        samples = rng.standard_normal(int(rng.integers(1, 400))) * amplitude
        cases.append(samples.clip(-32768, 32767).astype("<i2").tobytes())
    # Buffers whose RMS lies between 500 and 501, where audioop's integer alone cannot tell.
    for value in (500, 501):
        cases.append(np.full(160, value, dtype="<i2").tobytes())
    cases.append(np.array([500] * 159 + [560], dtype="<i2").tobytes())
    near = [c for c in cases if 500 <= rms(c) < 501]
    assert near, "no case at the threshold's integer part"
    for pcm in cases:
        for level in (500.0, 499.5, 0.0):
            assert louder_than(pcm, level) == (rms(pcm) > level)
