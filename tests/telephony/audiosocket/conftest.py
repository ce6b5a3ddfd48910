import pytest

from telephony.audiosocket import AudioSocketServer


@pytest.fixture
async def server():
    async with AudioSocketServer(trace=True, uuid_timeout=1.0) as srv:
        yield srv
