"""docker-compose.yml: every voxflow service runs a command that exists and passes only
variables the settings object reads; mounted files and the Dockerfile exist."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from runtime.cli import COMMAND_MODULES, app
from runtime.settings import env_names

REPO = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
OURS = sorted(name for name, svc in SERVICES.items() if "build" in svc)
SCRIPTS = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]


def _cli() -> Any:
    for module in COMMAND_MODULES:
        importlib.import_module(module)
    return typer.main.get_command(app)


def _resolve(group: Any, args: list[str]) -> Any:
    """The (click-like) command ``args`` reaches, failing as the CLI would on an unknown name."""
    command = group
    for arg in args:
        if arg.startswith("-") or not hasattr(command, "commands"):
            break
        sub = command.commands.get(arg)
        assert sub is not None, f"`{' '.join(args)}`: no command {arg!r}"
        command = sub
    return command


def test_compose_has_the_production_services() -> None:
    assert {
        "temporal",
        "temporal-ui",
        "postgresql",
        "asterisk",
        "worker",
        "api",
        "studio",
    } <= set(SERVICES)
    assert {"worker", "api", "studio", "migrate"} <= set(OURS)
    assert "pgvector" in SERVICES["postgresql"]["image"]


@pytest.mark.parametrize("service", OURS)
def test_service_command_exists_in_the_project(service: str) -> None:
    command = SERVICES[service]["command"]
    assert isinstance(command, list) and command
    if command[0] == "python":
        assert command[1] == "-m"
        spec = importlib.util.find_spec(command[2])
        assert spec is not None and spec.origin is not None, f"no module {command[2]}"
        assert 'if __name__ == "__main__":' in Path(spec.origin).read_text()
        return
    assert command[0] in SCRIPTS, f"{command[0]} is not a console script of pyproject.toml"
    leaf = _resolve(_cli(), command[1:])
    # options the command passes must be options of that command
    names = {opt for p in leaf.params for opt in getattr(p, "opts", [])}
    for arg in command[1:]:
        if arg.startswith("-"):
            assert arg in names, f"{service}: `{leaf.name}` has no option {arg}"


@pytest.mark.parametrize("service", OURS)
def test_service_passes_only_settings_variables(service: str) -> None:
    env = SERVICES[service].get("environment", {})
    assert isinstance(env, dict), "use the mapping form so keys can be checked"
    unknown = set(env) - env_names()
    assert not unknown, f"{service} passes variables runtime/settings.py does not read: {unknown}"


def test_every_variable_voxflow_services_pass_reaches_a_valid_settings_object() -> None:
    """With placeholder secrets, the api's environment passes settings validation."""
    from runtime.settings import load_settings

    env = dict(SERVICES["api"]["environment"])

    def fill(value: object) -> str:
        text = str(value)
        text = re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "placeholder", text)
        text = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text)
        return text

    values = {k: fill(v) for k, v in env.items()}
    values["VOXFLOW_API_KEYS"] = "admin:placeholder"
    settings = load_settings(values)
    assert settings.temporal_address == "temporal:7233"
    assert settings.database_url is not None
    assert settings.api_host == "0.0.0.0" and settings.api_keys


def test_build_context_and_mounted_files_exist() -> None:
    assert (REPO / "Dockerfile").is_file()
    for name in OURS:
        assert SERVICES[name]["build"] == "."
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{source} is mounted but missing"


def test_dockerfile_installs_every_package_folder() -> None:
    text = (REPO / "Dockerfile").read_text()
    for folder in ("dsl", "runtime", "activities", "telephony", "studio"):
        assert f"COPY {folder} ./{folder}" in text


# --- the optional observability profile: Prometheus and Grafana --------------------------------

OBSERVABILITY = ("prometheus", "grafana")


def _mounts(service: str) -> dict[str, Path]:
    """Container path → repository file, of ``service``'s bind mounts of repository files."""
    out = {}
    for volume in SERVICES[service].get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            out[target] = REPO / source
    return out


def test_prometheus_and_grafana_start_only_with_the_observability_profile() -> None:
    for name in OBSERVABILITY:
        assert SERVICES[name]["profiles"] == ["observability"], name
        for port in SERVICES[name]["ports"]:
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    # `docker compose up` without the profile: no default service needs them
    for name, service in SERVICES.items():
        if "profiles" not in service:
            assert not set(service.get("depends_on", [])) & set(OBSERVABILITY), name
    # and the file interpolates without any of their variables set
    for name in OBSERVABILITY:
        for value in SERVICES[name].get("environment", {}).values():
            assert ":?" not in str(value), f"{name} requires a variable even without its profile"


def test_prometheus_loads_the_repositorys_config_and_rules_and_scrapes_compose_services() -> None:
    mounts = _mounts("prometheus")
    command = SERVICES["prometheus"]["command"]
    config_file = next(a.split("=", 1)[1] for a in command if a.startswith("--config.file="))
    assert mounts[config_file] == REPO / "deploy" / "prometheus" / "prometheus.yml"
    config = yaml.safe_load(mounts[config_file].read_text())
    for rules in config["rule_files"]:  # relative to the config file, inside the container
        assert str(Path(config_file).parent / rules) in mounts, f"{rules} is not mounted"
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            for target in static["targets"]:
                host = target.split(":")[0]
                assert host in SERVICES, f"{job['job_name']} scrapes {host}: no such service"
    # the worker is reached through asterisk, whose network namespace it shares
    assert SERVICES["worker"]["network_mode"] == "service:asterisk"


def test_grafana_is_provisioned_with_prometheus_and_the_voxflow_dashboard() -> None:
    mounts = _mounts("grafana")
    provisioning = mounts["/etc/grafana/provisioning"]
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    port = SERVICES["prometheus"]["ports"][0].rsplit(":", 1)[1]
    assert (source["type"], source["url"]) == ("prometheus", f"http://prometheus:{port}")
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "voxflow.yml").read_text())[
        "providers"
    ]
    folder = provider["options"]["path"]
    dashboards = [target for target in mounts if target.startswith(folder + "/")]
    assert dashboards == [f"{folder}/voxflow-dashboard.json"]
    dashboard = mounts[dashboards[0]]
    assert json.loads(dashboard.read_text())["uid"] == "voxflow"
    home = SERVICES["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == dashboards[0]
