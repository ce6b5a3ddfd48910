"""Which endpoints a tenant may register: https, http only to loopback, no metadata or
private addresses unless the deployment allows them."""

from __future__ import annotations

import pytest

from runtime.webhooks.urls import WebhookUrlError, check_url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]:9/x",
        "https://127.0.0.1/x",
    ],
)
async def test_loopback_receivers_are_accepted(url: str) -> None:
    await check_url(url)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/x", "url_scheme"),
        ("http://93.184.215.14/hook", "url_scheme"),
        ("https://user:pw@127.0.0.1/x", "url_credentials"),
        ("https://169.254.169.254/latest/meta-data", "url_address"),
        ("https://[fe80::1]/x", "url_address"),
        ("https://[::ffff:169.254.169.254]/x", "url_address"),
        ("https://10.0.0.5/x", "url_address"),
        ("https://192.168.1.2/x", "url_address"),
        ("https://0.0.0.0/x", "url_address"),
        ("https://224.0.0.1/x", "url_address"),
        ("https://127.0.0.1:99999/x", "url_port"),
        ("https://no-such-host.invalid/x", "url_unresolved"),
    ],
)
async def test_refused_endpoints_name_their_rule(url: str, code: str) -> None:
    with pytest.raises(WebhookUrlError) as caught:
        await check_url(url)
    assert caught.value.code == code


async def test_the_setting_allows_private_and_link_local_addresses() -> None:
    await check_url("https://169.254.169.254/x", allow_private=True)
    await check_url("https://10.0.0.5/x", allow_private=True)


def test_the_settings_endpoint_is_checked_at_start_up() -> None:
    from runtime.settings import SettingsError, load_settings

    with pytest.raises(SettingsError) as caught:
        load_settings(
            {"VOXFLOW_WEBHOOK_URL": "http://hooks.example/x", "VOXFLOW_WEBHOOK_SECRET": "s"}
        )
    assert "VOXFLOW_WEBHOOK_URL" in str(caught.value) and "use https" in str(caught.value)
