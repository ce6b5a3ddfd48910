"""Random and mutated AudioSocket streams never crash the server; a bad stream ends only its call."""

import asyncio
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telephony.audio import AudioFrame
from telephony.audiosocket import AudioSocketServer, codec

VALID_MESSAGES = st.one_of(
    st.builds(lambda n: codec.audio(bytes(2 * n)), st.integers(1, 400)),
    st.sampled_from("0123456789*#ABCD").map(lambda d: codec.encode(codec.Dtmf(d))),
    st.just(codec.encode(codec.Error(b"\x02"))),
)


@st.composite
def mutated_streams(draw):
    """A valid call (UUID then messages) with random flips, cuts and insertions."""
    raw = bytearray(codec.encode(codec.Uuid(uuid.uuid4())))
    for message in draw(st.lists(VALID_MESSAGES, max_size=6)):
        raw += message
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = draw(st.integers(0, len(raw)))
        if op == "flip" and pos < len(raw):
            raw[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del raw[pos : pos + draw(st.integers(1, 8))]
        else:
            raw[pos:pos] = draw(st.binary(max_size=8))
    return bytes(raw)


STREAMS = st.one_of(st.binary(max_size=600), mutated_streams())


async def _exercise(server, bad_stream, split):
    host, port = server.address
    good_id = str(uuid.uuid4())
    good_reader, good_writer = await asyncio.open_connection(host, port)
    good_writer.write(codec.encode(codec.Uuid(uuid.UUID(good_id))))
    await good_writer.drain()
    good = await server.accept(good_id, timeout=2)

    reader, writer = await asyncio.open_connection(host, port)
    cut = split % (len(bad_stream) + 1)
    writer.write(bad_stream[:cut])
    await writer.drain()
    writer.write(bad_stream[cut:])
    await writer.drain()
    writer.close()  # the peer hangs up after its stream, as Asterisk would

    # The good call still carries audio both ways while (and after) the bad one ran.
    good_writer.write(codec.audio(b"\x01\x00" * 160))
    await good_writer.drain()
    item = await asyncio.wait_for(anext(good.incoming()), 2)
    assert item == AudioFrame(b"\x01\x00" * 160, 8000)
    await good.play(AudioFrame(bytes(320), 8000))
    header = await asyncio.wait_for(good_reader.readexactly(3), 2)
    assert header == b"\x10\x01\x40"
    assert not good.closed.is_set()
    good_writer.close()
    await asyncio.wait_for(good.closed.wait(), 2)
    # Every call of this round has ended; the server keeps no leftovers.
    for _ in range(100):
        if not server.active():
            break
        await asyncio.sleep(0.01)
    assert server.active() == {}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bad_stream=STREAMS, split=st.integers(0, 10_000))
def test_random_and_mutated_streams_end_only_their_own_call(bad_stream, split):
    async def scenario():
        async with AudioSocketServer(uuid_timeout=0.5) as server:
            await _exercise(server, bad_stream, split)

    asyncio.run(scenario())
