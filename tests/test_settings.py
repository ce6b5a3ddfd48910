"""The settings object: one validated read of the environment, every problem at once."""

from __future__ import annotations

import pytest

from runtime.settings import Role, SettingsError, env_names, load_settings


def _envs(err: SettingsError) -> list[str]:
    return [p.env for p in err.problems]


def test_empty_environment_gives_the_embedded_defaults() -> None:
    s = load_settings({})
    assert s.database_url is None
    assert s.temporal_address is None
    assert s.ami_host is None
    assert s.api_host == "127.0.0.1"
    assert s.pg_dir.parts[-2:] == (".voxflow", "pg")
    assert s.api_base_url == "http://127.0.0.1:8000"


def test_mapping_mode_ignores_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMI_HOST", "pbx.example")
    assert load_settings({}).ami_host is None


def test_process_environment_is_read_when_no_mapping_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "prod")
    s = load_settings()
    assert (s.temporal_address, s.temporal_namespace) == ("temporal:7233", "prod")


def test_every_field_error_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings(
            {
                "AMI_PORT": "not-a-port",
                "VOXFLOW_API_KEYS": "admin:a,wizard:b",
                "DATABASE_URL": "mysql://x/y",
            }
        )
    assert sorted(_envs(exc.value)) == ["AMI_PORT", "DATABASE_URL", "VOXFLOW_API_KEYS"]


def test_cross_field_problems_are_reported_at_once() -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings(
            {
                "AMI_HOST": "pbx",
                "AUDIOSOCKET_HOST": "0.0.0.0",
                "VOXFLOW_WEBHOOK_URL": "https://hooks.example/x",
                "VOXFLOW_API_HOST": "0.0.0.0",
            }
        )
    assert sorted(_envs(exc.value)) == [
        "AMI_SECRET",
        "AMI_USERNAME",
        "AUDIOSOCKET_ADVERTISED_ADDRESS",
        "VOXFLOW_API_KEYS",
        "VOXFLOW_WEBHOOK_SECRET",
    ]


def test_api_keys_parse_as_role_key_pairs_and_resolve_roles() -> None:
    s = load_settings({"VOXFLOW_API_KEYS": "admin:k1, operator:k2,designer:k3"})
    assert [k.role for k in s.api_keys] == [Role.ADMIN, Role.OPERATOR, Role.DESIGNER]
    assert s.role_of("k2") is Role.OPERATOR
    assert s.role_of("nope") is None


def test_duplicate_api_key_is_rejected() -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings({"VOXFLOW_API_KEYS": "admin:same,operator:same"})
    assert _envs(exc.value) == ["VOXFLOW_API_KEYS"]


def test_secrets_never_appear_in_repr_or_str() -> None:
    s = load_settings(
        {
            "DATABASE_URL": "postgresql://u:pg-pass-123@db/voxflow",
            "OPENAI_API_KEY": "sk-secret-456",
            "AMI_HOST": "pbx",
            "AMI_USERNAME": "vox",
            "AMI_SECRET": "ami-secret-789",
            "VOXFLOW_API_KEYS": "admin:api-secret-000",
            "VOXFLOW_WEBHOOK_URL": "https://h/x",
            "VOXFLOW_WEBHOOK_SECRET": "hook-secret-111",
        }
    )
    text = repr(s) + str(s)
    for secret in ("pg-pass-123", "sk-secret-456", "ami-secret-789", "api-secret-000", "hook-"):
        assert secret not in text
    assert s.database_url_redacted() == "postgresql://u:***@db/voxflow"


def test_require_names_every_missing_variable() -> None:
    s = load_settings({})
    with pytest.raises(SettingsError) as exc:
        s.require("openai_api_key", "ultravox_api_key", "task_queue", why="the test")
    assert _envs(exc.value) == ["OPENAI_API_KEY", "ULTRAVOX_API_KEY"]


def test_env_names_cover_the_documented_production_variables() -> None:
    assert {
        "TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE",
        "DATABASE_URL",
        "AMI_HOST",
        "AMI_PORT",
        "AMI_USERNAME",
        "AMI_SECRET",
        "AUDIOSOCKET_HOST",
        "AUDIOSOCKET_PORT",
        "AUDIOSOCKET_ADVERTISED_ADDRESS",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_REALTIME_MODEL",
        "ULTRAVOX_API_KEY",
        "ULTRAVOX_BASE_URL",
    } <= env_names()


def test_openai_append_ms_defaults_to_the_adapters_40_ms() -> None:
    from runtime.providers.openai_realtime.adapter import APPEND_MS

    assert load_settings({}).openai_append_ms == APPEND_MS == 40
    assert load_settings({"VOXFLOW_OPENAI_APPEND_MS": "80"}).openai_append_ms == 80


@pytest.mark.parametrize("value", ["0", "-20", "30", "220", "forty"])
def test_openai_append_ms_must_be_whole_frames_up_to_200(value: str) -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings({"VOXFLOW_OPENAI_APPEND_MS": value})
    assert _envs(exc.value) == ["VOXFLOW_OPENAI_APPEND_MS"]
