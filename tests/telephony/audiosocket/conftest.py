import pytest

from telephony.audiosocket import AudioSocketServer


@pytest.fixture
async def server():
    # These tests read back exactly the audio they play, frame for frame; the keep-alive
    # silence between responses has its own tests (test_keepalive.py).
    async with AudioSocketServer(trace=True, uuid_timeout=1.0, keepalive=False) as srv:
        yield srv
