"""The Helm chart: schema, docs, value paths and template shape, then `helm lint` and `template`."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot import __version__
from bot.config import BotConfig, parse_config
from bot.ops.metrics import Metrics
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm"
TEMPLATES = CHART / "templates"

ACTION = re.compile(r"\{\{-?(.*?)-?\}\}", re.DOTALL)
BLOCK_OPEN = re.compile(r"^\s*(if|with|range|define|block)\b")
BLOCK_END = re.compile(r"^\s*end\s*$")


def _values() -> dict[str, Any]:
    data = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _with(**changes: Any) -> dict[str, Any]:
    """values.yaml with dotted keys replaced, e.g. _with(**{"database.url": "x"})."""
    values = copy.deepcopy(_values())
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = values
        for key in parents:
            node = node[key]
        node[last] = value
    return values


def _paths(node: dict[str, Any], prefix: str = "", *, leaves: bool = False) -> list[str]:
    """Dotted paths of every key; with ``leaves``, only of keys that hold a value, not a group."""
    out = []
    for key, value in node.items():
        path = f"{prefix}{key}"
        is_group = isinstance(value, dict) and bool(value)
        if not (leaves and is_group):
            out.append(path)
        if isinstance(value, dict):
            out.extend(_paths(value, path + ".", leaves=leaves))
    return out


def _templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.iterdir() if p.is_file())


def _skeleton(path: Path) -> list[dict[str, Any]]:
    """The YAML left when template-only lines are dropped and inline actions become "X"."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if ACTION.sub("", line).strip() == "" and "{{" in line:
            continue
        lines.append(ACTION.sub("X", line))
    return [d for d in yaml.safe_load_all("\n".join(lines)) if d is not None]


# --- values and schema ---------------------------------------------------------------------------


#: A drill route as the schema wants it (the required keys).
_DRILL = {
    "folder": "b1gf",
    "network": "enpn",
    "subnets": {"ru-central1-a": "e9bs"},
    "channel": "C0",
}


def test_default_values_validate_against_the_schema() -> None:
    _validator().validate(_values())


def test_a_drill_route_with_its_rto_target_validates() -> None:
    _validator().validate(_with(**{"config.drills": [{**_DRILL, "rto_target": "45m"}]}))


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"replicaCount": "two"}, "replicaCount is not an integer"),
        ({"image.pullPolicy": "Sometimes"}, "pullPolicy outside its enum"),
        ({"yandexCloud.auth": "password"}, "auth outside its enum"),
        ({"log.level": "LOUD"}, "unknown log level"),
        ({"persistence.enabled": "yes"}, "a string for a boolean"),
        ({"database.url": "mysql://db/x"}, "a database the bot does not support"),
        ({"secrets.slackBotToken": "xapp-1-oops"}, "an app token where the bot token goes"),
        ({"ingress.enabled": True}, "an ingress without a host"),
        ({"replicas": 2}, "an unknown top-level key"),
        ({"secrets.slackToken": "xoxb-1"}, "an unknown key in secrets"),
        ({"config.watcher": {}}, "an unknown key in the bot config"),
        ({"resources.requests.gpu": 1}, "an unknown resource"),
        ({"yandexCloud.maxInFlight": 0}, "no cloud requests at all"),
        ({"yandexCloud.backgroundInFlight": "16"}, "a share that is not a number"),
        ({"config.drills": [{**_DRILL, "rto_target": "an hour"}]}, "an rto_target not a duration"),
    ],
)
def test_bad_values_are_refused(changes: dict[str, Any], why: str) -> None:
    errors = list(_validator().iter_errors(_with(**changes)))
    assert errors, f"accepted {why}"


def test_several_replicas_are_allowed_with_postgresql() -> None:
    values = _with(replicaCount=3, **{"database.url": "postgresql+asyncpg://bot@db:5432/bot"})
    _validator().validate(values)


def test_every_value_is_documented_in_the_chart_readme() -> None:
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    missing = [p for p in _paths(_values(), leaves=True) if f"| `{p}` |" not in readme]
    assert not missing, f"helm/README.md does not describe {missing}"


def test_the_schema_knows_exactly_the_top_level_values_and_config_keys() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    assert set(schema["properties"]) == set(_values())
    assert set(schema["properties"]["config"]["properties"]) == set(BotConfig.model_fields)


def test_the_default_config_is_one_the_bot_accepts() -> None:
    config = parse_config(yaml.safe_dump(_values()["config"]), source="helm/values.yaml:config")
    assert config.sweep.every.total_seconds() == 15 * 60


# --- Chart.yaml ----------------------------------------------------------------------------------


def test_chart_yaml_has_the_required_fields_and_the_apps_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "opensearch-backups-bot"
    assert chart["type"] == "application"
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[\w.]+)?", chart["version"])
    assert chart["appVersion"] == __version__
    assert chart["description"]


# --- templates -----------------------------------------------------------------------------------


def test_templates_only_use_values_that_exist() -> None:
    known = set(_paths(_values()))
    used: dict[str, str] = {}
    for path in _templates():
        for match in re.finditer(r"\.Values\.([A-Za-z0-9_.]+)", path.read_text(encoding="utf-8")):
            used[match.group(1).rstrip(".")] = path.name
    unknown = {p: f for p, f in used.items() if p not in known}
    assert not unknown, f"templates use values that values.yaml lacks: {unknown}"


@pytest.mark.parametrize("path", _templates(), ids=lambda p: p.name)
def test_template_actions_and_blocks_are_balanced(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count("{{") == text.count("}}")
    actions = [a.strip() for a in ACTION.findall(text) if not a.strip().startswith("/*")]
    opened = sum(1 for a in actions if BLOCK_OPEN.match(a))
    ended = sum(1 for a in actions if BLOCK_END.match(a))
    assert opened == ended, f"{opened} if/with/range/define blocks but {ended} ends"
    assert "\t" not in text


@pytest.mark.parametrize(
    "path", [p for p in _templates() if p.suffix == ".yaml"], ids=lambda p: p.name
)
def test_template_yaml_outside_the_actions_is_well_formed(path: Path) -> None:
    docs = _skeleton(path)
    assert len(docs) == 1
    assert {"apiVersion", "kind", "metadata"} <= set(docs[0])


def _deployment() -> dict[str, Any]:
    return _skeleton(TEMPLATES / "deployment.yaml")[0]


def test_the_deployment_probes_health_and_readiness() -> None:
    container = _deployment()["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"][0]["containerPort"] == 3000
    assert container["args"] == ["serve"]


def test_the_deployment_sets_only_env_vars_the_bot_reads() -> None:
    container = _deployment()["spec"]["template"]["spec"]["containers"][0]
    names = {e["name"] for e in container["env"]}
    aliases = {f.alias for f in Settings.model_fields.values() if f.alias}
    # PGPASSWORD is read by asyncpg itself when the URL carries no password.
    assert names - {"PGPASSWORD"} <= aliases
    assert {
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "YC_SERVICE_ACCOUNT_KEY_FILE",
        "YC_OAUTH_TOKEN",
        "BACKUPS_BOT_CONFIG",
        "DATABASE_URL",
        "PORT",
    } <= names
    secret_refs = {e["name"] for e in container["env"] if "valueFrom" in e}
    assert {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"} <= secret_refs


def test_the_key_file_and_config_are_mounted_where_the_env_points() -> None:
    spec = _deployment()["spec"]["template"]["spec"]
    container = spec["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    key_file = Path(env["YC_SERVICE_ACCOUNT_KEY_FILE"])
    config_file = Path(env["BACKUPS_BOT_CONFIG"])
    assert str(key_file) == "/var/run/secrets/yc/key.json"
    assert str(key_file.parent) in mounts
    assert str(config_file.parent) in mounts
    assert {"/tmp", "/data"} <= set(mounts)
    configmap = _skeleton(TEMPLATES / "configmap.yaml")[0]
    assert config_file.name in configmap["data"]


def test_the_pod_is_locked_down_by_default() -> None:
    values = _values()
    assert values["securityContext"]["readOnlyRootFilesystem"] is True
    assert values["securityContext"]["allowPrivilegeEscalation"] is False
    assert values["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert values["podSecurityContext"]["runAsNonRoot"] is True
    assert values["podSecurityContext"]["runAsUser"] == 10001
    assert {"requests", "limits"} <= set(values["resources"])
    spec = _deployment()["spec"]["template"]["spec"]
    assert spec["automountServiceAccountToken"] is False


def test_pods_roll_when_config_or_secret_change() -> None:
    annotations = _deployment()["spec"]["template"]["metadata"]["annotations"]
    assert {"checksum/config", "checksum/secret"} <= set(annotations)


def test_the_templates_refuse_several_replicas_without_postgresql() -> None:
    helpers = (TEMPLATES / "_helpers.tpl").read_text(encoding="utf-8")
    validate = helpers[helpers.index('define "backups-bot.validate"') :]
    assert "replicaCount" in validate
    assert "fail" in validate
    assert (
        (TEMPLATES / "deployment.yaml")
        .read_text(encoding="utf-8")
        .startswith('{{- include "backups-bot.validate" . }}')
    )


def test_the_secret_is_made_only_without_an_existing_one() -> None:
    first = (TEMPLATES / "secret.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "{{- if not .Values.existingSecret }}"


def test_notes_say_what_to_do_next() -> None:
    notes = (TEMPLATES / "NOTES.txt").read_text(encoding="utf-8")
    assert "manifest.yaml" in notes
    assert "backups-bot check" in notes
    assert "logs" in notes


#: A working install's least values (the chart-testing file in helm/ci).
CI_VALUES = CHART / "ci" / "socket-mode-values.yaml"


def _helm() -> str:
    """The helm that `make install` puts beside the venv's python (scripts/install-helm)."""
    beside = Path(sys.executable).parent / "helm"
    found = str(beside) if beside.exists() else shutil.which("helm")
    assert found, "no helm binary: run scripts/install-helm .venv/bin (make test does)"
    return found


def test_helm_lints_and_renders_the_chart(tmp_path: Path) -> None:
    helm = _helm()
    env = {**os.environ, "HELM_CACHE_HOME": str(tmp_path), "HELM_CONFIG_HOME": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [helm, *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )

    # The chart's defaults are refused (no image, no token, nothing watched): a working install
    # sets at least what helm/ci's values file sets.
    lint = run("lint", str(CHART), "--strict", "--values", str(CI_VALUES))
    assert lint.returncode == 0, lint.stdout + lint.stderr
    rendered = run("template", "rel", str(CHART), "--values", str(CI_VALUES))
    assert rendered.returncode == 0, rendered.stderr
    kinds = {d["kind"] for d in yaml.safe_load_all(rendered.stdout) if d}
    assert {"Deployment", "ConfigMap", "Secret", "Service", "PersistentVolumeClaim"} <= kinds
    refused = run(
        "template", "rel", str(CHART), "--values", str(CI_VALUES), "--set", "replicaCount=2"
    )
    assert refused.returncode != 0
    assert "postgresql" in refused.stderr


# --- what the chart refuses, in words ------------------------------------------------------------


def _ci_values() -> dict[str, Any]:
    data = yaml.safe_load(CI_VALUES.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _helm_run(
    tmp_path: Path, *args: str, values: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    """helm with ``values`` (over the chart's own) in a file."""
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    env = {**os.environ, "HELM_CACHE_HOME": str(tmp_path), "HELM_CONFIG_HOME": str(tmp_path)}
    return subprocess.run(
        [_helm(), *args, str(CHART), "--values", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def _merged(*layers: dict[str, Any]) -> dict[str, Any]:
    """values.yaml with each layer's keys put over it, deeply (as helm merges --values)."""
    out = copy.deepcopy(_values())

    def put(node: dict[str, Any], layer: dict[str, Any]) -> None:
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(node.get(key), dict):
                put(node[key], value)
            else:
                node[key] = value

    for layer in layers:
        put(out, layer)
    return out


REFUSALS = [
    pytest.param(
        {"image": {"repository": ""}},
        "image.repository is empty: build the image (make image), push it to your registry and "
        "set image.repository to it",
        id="no-image",
    ),
    pytest.param(
        {"secrets": {"slackBotToken": ""}},
        "no bot token: set secrets.slackBotToken to the app's xoxb- token, or existingSecret to "
        "a Secret of yours that holds SLACK_BOT_TOKEN",
        id="no-bot-token",
    ),
    pytest.param(
        {"config": {"watch": {"folders": [], "clusters": []}}},
        "nothing is watched: set config.watch.clouds (every folder of a cloud), "
        "config.watch.folders or config.watch.clusters",
        id="nothing-watched",
    ),
    pytest.param(
        {"replicaCount": 2},
        "replicaCount > 1 needs PostgreSQL: set database.url to postgresql+asyncpg://... "
        "(SQLite is one file on one volume)",
        id="replicas-on-sqlite",
    ),
    pytest.param(
        {"replicaCount": 2, "database": {"url": "sqlite+aiosqlite:////data/x.db"}},
        "replicaCount > 1 needs PostgreSQL: set database.url to postgresql+asyncpg://... "
        "(SQLite is one file on one volume)",
        id="replicas-on-a-named-sqlite",
    ),
    pytest.param(
        {"database": {"url": "postgresql+asyncpg://bot:pw@db:5432/bot"}},
        "database.url holds a password: take it out of the URL and set "
        "secrets.databasePassword (the bot gets it as PGPASSWORD)",
        id="password-in-url",
    ),
]


@pytest.mark.parametrize(("layer", "sentence"), REFUSALS)
def test_what_cannot_work_is_refused_in_one_sentence(
    layer: dict[str, Any], sentence: str, tmp_path: Path
) -> None:
    values = _merged(_ci_values(), layer)
    # The schema lets it through, so that helm gets as far as the templates' own words.
    _validator().validate(values)
    refused = _helm_run(tmp_path, "template", "rel", values=values)
    assert refused.returncode != 0
    errors = [line for line in refused.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [
        f"Error: execution error at (opensearch-backups-bot/templates/deployment.yaml:1:4): "
        f"{sentence}"
    ]
    # helm lint reports a template's fail without failing (its lint mode): the words are there.
    lint = _helm_run(tmp_path, "lint", "--strict", values=values)
    assert f"Fail: {sentence}" in lint.stderr


def test_an_existing_secret_stands_in_for_the_bot_token(tmp_path: Path) -> None:
    values = _merged(_ci_values(), {"secrets": {"slackBotToken": ""}, "existingSecret": "mine"})
    rendered = _helm_run(tmp_path, "template", "rel", values=values)
    assert rendered.returncode == 0, rendered.stderr
    kinds = [d["kind"] for d in yaml.safe_load_all(rendered.stdout) if d]
    assert "Secret" not in kinds


def test_the_defaults_are_refused_first_for_the_image(tmp_path: Path) -> None:
    refused = _helm_run(tmp_path, "template", "rel", values={})
    assert refused.returncode != 0
    assert "image.repository is empty: build the image (make image)" in refused.stderr


def _rendered(tmp_path: Path, layer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rendered = _helm_run(tmp_path, "template", "rel", values=_merged(_ci_values(), layer))
    assert rendered.returncode == 0, rendered.stderr
    return {d["kind"]: d for d in yaml.safe_load_all(rendered.stdout) if d}


POSTGRES = {"database": {"url": "postgresql+asyncpg://bot@db:5432/bot"}}


def test_several_replicas_get_a_pod_disruption_budget(tmp_path: Path) -> None:
    assert "PodDisruptionBudget" not in _rendered(tmp_path, {})
    objects = _rendered(tmp_path, {"replicaCount": 3, **POSTGRES})
    pdb = objects["PodDisruptionBudget"]
    assert pdb["spec"]["maxUnavailable"] == 1
    pod_labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_the_network_policy_lets_out_only_dns_https_and_the_database(tmp_path: Path) -> None:
    assert "NetworkPolicy" not in _rendered(tmp_path, {})
    policy = _rendered(tmp_path, {"networkPolicy": {"enabled": True}, **POSTGRES})["NetworkPolicy"]
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == []  # Socket Mode: nobody needs to connect
    ports = sorted({p["port"] for rule in spec["egress"] for p in rule["ports"]})
    assert ports == [53, 443, 5432]
    assert all("to" not in rule for rule in spec["egress"])  # ports only: the APIs move


def test_the_network_policy_admits_whom_it_is_told_on_the_http_port(tmp_path: Path) -> None:
    peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}}
    layer = {"networkPolicy": {"enabled": True, "ingressFrom": [peer]}}
    layer["yandexCloud"] = {"auth": "metadata"}
    spec = _rendered(tmp_path, layer)["NetworkPolicy"]["spec"]
    assert spec["ingress"] == [{"from": [peer], "ports": [{"port": "http", "protocol": "TCP"}]}]
    metadata = [rule for rule in spec["egress"] if "to" in rule]
    assert metadata == [
        {
            "to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}],
            "ports": [{"port": 80, "protocol": "TCP"}],
        }
    ]


def test_the_prometheus_rule_is_off_by_default_and_asks_for_series_the_bot_exports(
    tmp_path: Path,
) -> None:
    assert "PrometheusRule" not in _rendered(tmp_path, {})
    layer = {"metrics": {"prometheusRule": {"enabled": True, "for": "30m", "severity": "page"}}}
    rule = _rendered(tmp_path, layer)["PrometheusRule"]
    rules = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    assert {r["alert"] for r in rules} == {
        "OpenSearchBackupStale",
        "OpenSearchBackupsBotNotSweeping",
    }
    assert {r["for"] for r in rules} == {"30m"}
    assert {r["labels"]["severity"] for r in rules} == {"page"}
    # Every series a rule reads is one the bot exports, with the labels the rule groups by.
    exported = {metric.name: metric for metric in Metrics().registry.collect()}
    for r in rules:
        for name in re.findall(r"backups_bot_\w+", r["expr"]):
            assert name in exported, name
    stale = next(r for r in rules if r["alert"] == "OpenSearchBackupStale")
    assert 'state=~"stale|never"' in stale["expr"]
    # Prometheus fills {{ $labels.x }}, not helm: the annotations keep them.
    assert "{{ $labels.cluster }}" in stale["annotations"]["summary"]
