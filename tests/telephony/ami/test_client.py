import asyncio
import logging
import uuid

import pytest

from telephony.ami import AmiClient, AmiNotConnected, AmiSettings, AsteriskGateway
from telephony.gateway import DialRequest
from telephony.sim import SimPBX, originates_per_attempt, parse_scenarios


async def test_login_and_ping_against_the_simulator(ami_settings):
    client = AmiClient(ami_settings)
    await client.start()
    reply = await client.send({"Action": "Ping"})
    assert reply["Response"] == "Success"
    assert reply["Ping"] == "Pong"
    await client.close()


async def test_refused_login_is_retried_and_never_logs_the_secret(pbx, caplog):
    host, port = pbx.ami_address
    settings = AmiSettings(
        host=host,
        port=port,
        username="voxflow",
        secret="wrong-secret-xyz",
        backoff_initial=0.02,
        backoff_max=0.05,
    )
    client = AmiClient(settings)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TimeoutError):
        await client.start(wait=0.2)

    def refusals():
        return sum("login refused for user 'voxflow'" in r.getMessage() for r in caplog.records)

    for _ in range(200):
        if refusals() >= 2:
            break
        await asyncio.sleep(0.05)
    assert refusals() >= 2  # refused, backed off, tried again
    assert client.connections == 0
    assert "wrong-secret-xyz" not in caplog.text
    assert "wrong-secret-xyz" not in repr(settings)
    with pytest.raises(AmiNotConnected):
        await client.send({"Action": "Ping"})
    await client.close()


async def test_client_reconnects_when_the_pbx_restarts(tmp_path):
    scenarios = parse_scenarios({})
    first = SimPBX(scenarios, log_path=tmp_path / "log.jsonl")
    await first.start()
    host, port = first.ami_address
    client = AmiClient(
        AmiSettings(host=host, port=port, secret="voxflow", backoff_initial=0.02, backoff_max=0.1)
    )
    await client.start()
    await first.close()
    for _ in range(200):
        if not client.connected.is_set():
            break
        await asyncio.sleep(0.025)
    assert not client.connected.is_set()
    async with SimPBX(scenarios, log_path=tmp_path / "log.jsonl", port=port):
        await asyncio.wait_for(client.connected.wait(), 5)
        assert client.connections == 2
        assert (await client.send({"Action": "Ping"}))["Ping"] == "Pong"
    await client.close()


async def _silent_ami_server(pings: list[int]):
    """Answers Login, then never answers anything: a half-open connection."""

    async def handle(reader, writer):
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        block = await reader.readuntil(b"\r\n\r\n")
        action_id = next(
            line.split(": ", 1)[1]
            for line in block.decode().split("\r\n")
            if line.startswith("ActionID")
        )
        writer.write(
            f"Response: Success\r\nActionID: {action_id}\r\nMessage: Authentication accepted\r\n\r\n".encode()
        )
        pings.append(0)
        try:
            while await reader.read(1024):
                pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def test_unanswered_ping_triggers_a_reconnect():
    logins: list[int] = []
    server = await _silent_ami_server(logins)
    port = server.sockets[0].getsockname()[1]
    client = AmiClient(
        AmiSettings(
            port=port,
            secret="x",
            ping_interval=0.1,
            ping_timeout=0.1,
            backoff_initial=0.02,
            backoff_max=0.05,
        )
    )
    await client.start()
    for _ in range(100):
        if client.connections >= 2:
            break
        await asyncio.sleep(0.05)
    assert client.connections >= 2
    assert len(logins) >= 2
    await client.close()
    server.close()


async def test_connection_lost_during_originate_is_unknown_and_never_redialled(
    tmp_path, audiosocket
):
    scenarios = parse_scenarios({"ring_ms": 100, "default": {"result": "no_answer"}})
    log_path = tmp_path / "log.jsonl"
    pbx = SimPBX(scenarios, log_path=log_path)
    await pbx.start()
    host, port = pbx.ami_address
    settings = AmiSettings(
        host=host, port=port, secret="voxflow", backoff_initial=0.02, backoff_max=0.05
    )
    gateway = await AsteriskGateway.connect(settings, audiosocket.address_text)
    attempt = str(uuid.uuid4())
    dial = asyncio.create_task(
        gateway.place_call(DialRequest(attempt, "+15550001", ring_timeout_ms=5000))
    )
    await asyncio.sleep(0.2)
    await pbx.close()  # the PBX goes away mid-dial
    result = await asyncio.wait_for(dial, 5)
    assert result.answered is False
    assert result.outcome == "unknown"
    async with SimPBX(scenarios, log_path=log_path, port=port):
        await asyncio.wait_for(gateway.client.connected.wait(), 5)
        await asyncio.sleep(0.3)  # a FullyBooted that would make panoramisk re-send has arrived
    assert originates_per_attempt(log_path) == {attempt: 1}
    await gateway.close()
