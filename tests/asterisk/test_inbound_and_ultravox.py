"""Inbound calls into ``[voxflow-inbound]`` and the Ultravox SIP dialplan on a real Asterisk."""

from __future__ import annotations

import asyncio
import uuid

from telephony.ami import AmiClient, AsteriskGateway
from telephony.audiosocket import AudioSocketServer
from tests.asterisk.rig import wait_for
from tests.asterisk.sip_peer import headers


async def test_an_inbound_call_reaches_voxflow_with_its_caller_and_number(ami_settings):
    async with AudioSocketServer() as server:
        gateway = await AsteriskGateway.connect(ami_settings, server.address_text)
        try:
            # [globals] VOXFLOW_INBOUND_AUDIOSOCKET -> this server, as a deployment sets it
            await gateway.client.send(
                {"Action": "Setvar", "Variable": "VOXFLOW_INBOUND_AUDIOSOCKET",
                 "Value": server.address_text}
            )  # fmt: skip
            # A call from the "carrier": the loop's caller endpoint dials the trunk's number.
            reply = await gateway.client.send(
                {"Action": "Originate", "Channel": "PJSIP/15550100@loopcaller",
                 "CallerID": "<+15551234567>", "Context": "callees", "Exten": "3003",
                 "Priority": "1", "Async": "true"}
            )  # fmt: skip
            assert reply[0].get("Response") == "Success"
            sessions = server.sessions()
            session = await asyncio.wait_for(anext(sessions), 10)
            channel = await gateway.inbound_channel(session.call_id, timeout=5)
            assert channel is not None
            assert (channel.caller, channel.did) == ("+15551234567", "15550100")
            assert channel.channel.startswith("PJSIP/voxflow-trunk-")
            await session.hangup()
        finally:
            await gateway.close()


async def test_the_ultravox_invite_carries_the_attempt_header(ami_settings, ultravox_peer):
    client = AmiClient(ami_settings)
    await client.start()
    try:
        attempt = str(uuid.uuid4())
        seen = len(ultravox_peer.invites)
        # The contact (a silent phone) answers; the dialplan then dials Ultravox over SIP.
        await client.send(
            {"Action": "Originate", "Channel": "PJSIP/3003@voxflow-trunk",
             "Context": "voxflow-ultravox-sip", "Exten": "s", "Priority": "1", "Async": "true",
             "Variable": [f"VOXFLOW_ATTEMPT={attempt}",
                          f"VOXFLOW_ULTRAVOX_TO=sip:agent_rig@{ultravox_peer.address}"]}
        )  # fmt: skip
        await wait_for(lambda: len(ultravox_peer.invites) > seen, timeout=10)
        invite = ultravox_peer.invites[-1]
        assert invite.startswith("INVITE sip:agent_rig@")
        assert headers(invite, "X-Voxflow-Attempt") == [attempt]
    finally:
        await client.close()
