"""deploy/: the Prometheus configuration and alert rules, and the Grafana dashboard, query
only the metrics voxflow exposes (the names agreed for issue 21) or the Temporal SDK's, and
are valid to the tools that load them: promtool checks the configuration and the rules and
runs the rules' unit tests (deploy/prometheus/alerts.test.yml) when it is installed (Debian's
``prometheus`` package); without it the YAML and the names are still checked here."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PROMETHEUS = REPO / "deploy" / "prometheus"
DASHBOARD = REPO / "deploy" / "grafana" / "voxflow-dashboard.json"
PROMTOOL = shutil.which("promtool")

COUNTERS = {
    "voxflow_originates_total": {"outcome"},
    "voxflow_dial_attempts_total": set(),
    "voxflow_audiosocket_frames_late_total": set(),
    "voxflow_provider_errors_total": {"provider", "code"},
    "voxflow_compiles_total": {"result"},
    "voxflow_conversation_tests_total": {"result"},
}
GAUGES = {
    "voxflow_calls_in_progress": set(),
    "voxflow_breaker_open": {"provider"},
    "voxflow_campaign_contacts": {"tenant", "campaign", "state"},
}
HISTOGRAMS = {
    "voxflow_audiosocket_jitter_seconds": set(),
    "voxflow_bargein_flush_seconds": set(),
    "voxflow_provider_first_audio_seconds": {"provider"},
}
"""The voxflow metrics and their labels, as agreed for issue 21 (runtime/observability/)."""
SERIES = {
    **COUNTERS,
    **GAUGES,
    **{
        f"{h}_{s}": labels | ({"le"} if s == "bucket" else set())
        for h, labels in HISTOGRAMS.items()
        for s in ("bucket", "count", "sum")
    },  # fmt: skip
}
SCRAPE_LABELS = {"instance", "job", "component"}


def _rules() -> list[dict]:
    doc = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _dashboard_exprs() -> list[str]:
    dash = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]


def _names(expr: str) -> set[str]:
    return set(re.findall(r"\bvoxflow_[a-z_]+", expr))


def _selectors(expr: str) -> list[tuple[str, set[str]]]:
    """``(metric, label names matched)`` of each voxflow selector of ``expr``."""
    out = []
    for name, matchers in re.findall(r"\b(voxflow_[a-z_]+)(\{[^}]*\})?", expr):
        out.append((name, set(re.findall(r"([a-z_]+)\s*(?:=~|!=|!~|=)", matchers))))
    return out


def _by_labels(expr: str) -> set[str]:
    labels: set[str] = set()
    for group in re.findall(r"\b(?:by|on)\s*\(([^)]*)\)", expr):
        labels |= {x.strip() for x in group.split(",") if x.strip()}
    return labels


def test_the_alerts_the_issue_asks_for_exist() -> None:
    names = {rule["alert"] for rule in _rules()}

    assert names == {
        "VoxflowHighNoAnswerRate",
        "VoxflowProviderErrors",
        "VoxflowProviderBreakerOpen",
        "VoxflowAudioJitterHigh",
        "VoxflowCampaignStuck",
    }
    for rule in _rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


@pytest.mark.parametrize("where", ["alerts", "dashboard"])
def test_every_query_reads_only_voxflow_metrics_and_their_labels(where: str) -> None:
    exprs = [r["expr"] for r in _rules()] if where == "alerts" else _dashboard_exprs()
    assert exprs
    for expr in exprs:
        unknown = _names(expr) - set(SERIES)
        assert not unknown, f"{expr}: no such voxflow metric {unknown}"
        for name, labels in _selectors(expr):
            assert labels <= SERIES[name] | SCRAPE_LABELS, f"{expr}: {name} has no {labels}"
        metrics = _names(expr)
        if metrics and "temporal_" not in expr:
            known = set().union(*(SERIES[m] for m in metrics)) | SCRAPE_LABELS
            assert _by_labels(expr) <= known, f"{expr}: groups by a label no metric has"
        for quantile in re.findall(r"histogram_quantile\(([^,]+),\s*(.*)", expr, re.S):
            assert "_bucket" in quantile[1] and re.search(r"\ble\b", quantile[1]), expr


def test_the_dashboard_has_the_panels_an_operator_needs() -> None:
    dash = json.loads(DASHBOARD.read_text())
    titles = {p["title"] for p in dash["panels"]}
    exprs = " ".join(_dashboard_exprs())

    assert dash["uid"] == "voxflow" and dash["schemaVersion"] >= 36
    assert {
        "Calls in progress",
        "Originates by outcome",
        "Dial attempts per second",
        "AudioSocket jitter p99",
        "Provider errors by code",
        "Circuit breaker",
        "Campaign progress",
    } <= titles
    assert "histogram_quantile(0.99" in exprs and "temporal_" in exprs
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for p in dash["panels"]:
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${datasource}", p["title"]
    variables = {v["name"] for v in dash["templating"]["list"]}
    assert {"datasource", "campaign", "provider"} <= variables


def test_prometheus_scrapes_the_worker_the_api_and_the_temporal_sdk() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}

    assert set(jobs) == {"voxflow-api", "voxflow-worker", "temporal-sdk"}
    assert config["rule_files"] == ["alerts.yml"]
    # the worker shares the asterisk service's network (docker-compose.yml)
    for job in ("voxflow-worker", "temporal-sdk"):
        (target,) = jobs[job]["static_configs"][0]["targets"]
        assert target.startswith("asterisk:")
    (api,) = jobs["voxflow-api"]["static_configs"][0]["targets"]
    assert api.startswith("api:")


needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (apt-get install prometheus)"
)


def _promtool(*args: str, cwd: Path = PROMETHEUS) -> None:
    assert PROMTOOL is not None
    done = subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_promtool_accepts_the_configuration_and_the_rules() -> None:
    _promtool("check", "config", "prometheus.yml")
    _promtool("check", "rules", "alerts.yml")


@needs_promtool
def test_alert_rules_fire_when_and_only_when_they_should() -> None:
    """deploy/prometheus/alerts.test.yml: each alert on series that must and must not fire it."""
    _promtool("test", "rules", "alerts.test.yml")


@needs_promtool
def test_promtool_parses_every_dashboard_query(tmp_path: Path) -> None:
    """Each panel's query, as a recording rule: promtool parses the PromQL (Grafana's
    ``$variable`` only ever appears inside a label matcher's string)."""
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"voxflow:panel_{i}", "expr": e}
                    for i, e in enumerate(_dashboard_exprs())
                ],
            }
        ]
    }
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump(rules))
    _promtool("check", "rules", "dashboard.yml", cwd=tmp_path)
