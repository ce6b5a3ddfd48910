"""AMI against a real Asterisk 22: login, and reconnecting after Asterisk restarts."""

from __future__ import annotations

import asyncio

from telephony.ami import AmiClient, AmiSettings
from tests.asterisk.rig import wait_for


async def test_login_and_ping(ami_settings):
    client = AmiClient(ami_settings)
    await client.start()
    try:
        reply = await client.send({"Action": "Ping"})
        assert reply.get("Response") == "Success" and reply.get("Ping") == "Pong"
    finally:
        await client.close()


async def test_a_wrong_secret_never_connects(ami_settings):
    from dataclasses import replace

    client = AmiClient(replace(ami_settings, secret="wrong"))
    try:
        try:
            await client.start(wait=2.0)
        except TimeoutError:
            pass
        assert not client.connected.is_set()
    finally:
        await client.close()


async def test_the_client_reconnects_after_asterisk_restarts(rig, ami_settings: AmiSettings):
    client = AmiClient(ami_settings)
    await client.start()
    try:
        await asyncio.to_thread(rig.stop)
        await wait_for(lambda: not client.connected.is_set(), timeout=10)
        await asyncio.to_thread(rig.start)
        await wait_for(client.connected.is_set, timeout=20)
        reply = await client.send({"Action": "Ping"})
        assert reply.get("Ping") == "Pong"
    finally:
        await client.close()
