"""docker-compose.yml, Dockerfile and .env.example, checked without a Docker engine."""

from __future__ import annotations

import os
import re
from importlib.metadata import version
from pathlib import Path

import click
import pytest
import yaml

from iocwatch.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[2]
VAR = re.compile(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)(:?[-?])?([^}]*)\}")  # $${X} is the container's


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose_text() -> str:
    """The file without its comment lines (what compose interpolates)."""
    lines = (ROOT / "docker-compose.yml").read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def _env_example() -> dict[str, str]:
    out = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def test_compose_services_and_profiles(compose):
    services = compose["services"]
    assert {"elasticsearch", "kibana", "collector", "monitor", "dashboard"} <= set(services)
    assert services["kibana"]["profiles"] == ["kibana"]
    for name in ("elasticsearch", "collector", "monitor", "dashboard"):
        assert "profiles" not in services[name], f"{name} must start by default"


def test_compose_elasticsearch_matches_client_and_has_security_on(compose):
    es = compose["services"]["elasticsearch"]
    image, tag = es["image"].split(":")
    assert image == "elasticsearch"
    client_major = version("elasticsearch").split(".")[0]
    assert tag.split(".")[0] == client_major == "8"  # the 8.x client only talks to 8.x servers
    assert tuple(map(int, tag.split(".")[:2])) >= (8, 19)
    assert compose["services"]["kibana"]["image"] == f"kibana:{tag}"
    env = es["environment"]
    assert env["discovery.type"] == "single-node"
    assert env["xpack.security.enabled"] == "true"
    assert env["ELASTIC_PASSWORD"].startswith("${ELASTIC_PASSWORD:?")


def test_compose_app_services_share_one_build_and_wait_for_healthy_es(compose):
    apps = {n: s for n, s in compose["services"].items() if n in ("collector", "monitor", "dashboard")}
    builds = {str(s["build"]) for s in apps.values()}
    images = {s["image"] for s in apps.values()}
    assert len(builds) == 1 and len(images) == 1
    assert next(iter(apps.values()))["build"]["dockerfile"] == "Dockerfile"
    for name, svc in apps.items():
        assert svc["depends_on"]["elasticsearch"]["condition"] == "service_healthy", name
        assert svc["environment"]["IOCWATCH_STORE"] == "elasticsearch"
        assert svc["environment"]["IOCWATCH_INDEX__ES_PASSWORD"].startswith("${ELASTIC_PASSWORD:?")
        assert "appdata:/data" in svc["volumes"]
    kibana = compose["services"]["kibana"]["depends_on"]
    assert kibana["elasticsearch"]["condition"] == "service_healthy"
    assert kibana["kibana-setup"]["condition"] == "service_completed_successfully"


def test_compose_every_long_running_service_has_a_healthcheck(compose):
    for name, svc in compose["services"].items():
        if name == "kibana-setup":
            continue  # a one-shot job
        hc = svc.get("healthcheck")
        assert hc and hc["test"][0] in ("CMD", "CMD-SHELL"), name
        assert {"interval", "timeout", "retries"} <= set(hc), name


def test_compose_named_volumes_for_data(compose):
    assert set(compose["volumes"]) == {"esdata", "kibanadata", "appdata"}
    assert "esdata:/usr/share/elasticsearch/data" in compose["services"]["elasticsearch"]["volumes"]
    for svc in compose["services"].values():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            assert src in compose["volumes"] or src.startswith(("${", "./")), vol


def test_compose_required_secrets_use_strict_variables(compose_text):
    found = {m.group(1): m.group(2) for m in VAR.finditer(compose_text)}
    for secret in ("ELASTIC_PASSWORD", "KIBANA_PASSWORD"):
        assert found[secret] == ":?", f"{secret} must be ${{{secret}:?...}}"
    # no secret has a default value written in the file
    for m in VAR.finditer(compose_text):
        if re.search(r"PASSWORD|TOKEN|SECRET|API_KEY", m.group(1)) and m.group(2) == ":-":
            assert m.group(3) == "", f"{m.group(1)} must not have a default value"


def test_compose_every_variable_documented_in_env_example(compose_text):
    documented = _env_example()
    used = {m.group(1) for m in VAR.finditer(compose_text)}
    assert used <= set(documented), sorted(used - set(documented))
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    for secret in ("ELASTIC_PASSWORD", "KIBANA_PASSWORD"):
        assert documented[secret] == "", "examples carry no real secret"
        assert re.search(rf"REQUIRED.*\n(#.*\n)*{secret}=", text), secret


def _resolve(argv: list[str]) -> click.Context:
    """Parse a command line with the real CLI (without running it)."""
    assert argv[0] == "iocwatch"
    group_ctx = cli.make_context("iocwatch", list(argv[1:]), resilient_parsing=False)
    name, cmd, args = cli.resolve_command(group_ctx, group_ctx.protected_args + group_ctx.args)
    assert name in COMMANDS
    ctx = cmd.make_context(name, list(args), parent=group_ctx)
    while isinstance(cmd, click.Group) and (ctx.protected_args or ctx.args):
        name, cmd, args = cmd.resolve_command(ctx, ctx.protected_args + ctx.args)
        ctx = cmd.make_context(name, list(args), parent=ctx)
    return ctx


def test_compose_every_command_exists_in_the_cli(compose):
    checked = 0
    for name, svc in compose["services"].items():
        for argv in (svc.get("command"), (svc.get("healthcheck") or {}).get("test")):
            if not argv or argv[0] in ("CMD-SHELL",) or isinstance(argv, str):
                continue
            argv = argv[1:] if argv[0] == "CMD" else argv
            if argv[0] != "iocwatch":
                continue
            ctx = _resolve(argv)  # raises on an unknown command or option
            assert ctx.command is not None, (name, argv)
            checked += 1
    assert checked >= 5  # three commands and two healthchecks


def test_compose_collector_and_monitor_cover_every_service_job(compose, settings):
    from iocwatch.ops.service import Service

    def only(name: str) -> list[str]:
        cmd = compose["services"][name]["command"]
        return [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--only"]

    monitor_cfg = settings.model_copy(update={"serve": type(settings.serve)(
        **{**dict(settings.serve), "monitor_pcap_dir": str(settings.data_dir.parent)})})
    svc = Service(monitor_cfg, collect=lambda s, x: {})
    every = {j.name.split(":")[0] for j in svc.build()}
    svc.store.close()
    covered = set(only("collector")) | set(only("monitor"))
    assert every <= covered, every - covered  # no job is left out of the stack
    assert "source" not in only("monitor") and "monitor" not in only("collector")


def test_compose_rejects_a_command_the_cli_lacks():
    with pytest.raises(click.UsageError):
        _resolve(["iocwatch", "serve", "--no-such-option"])
    with pytest.raises(click.UsageError):
        _resolve(["iocwatch", "no-such-command"])


def test_compose_dockerfile_builds_one_image_for_the_cli():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11", text, re.M)
    assert 'ENTRYPOINT ["/usr/bin/tini", "-g", "--"]' in text  # SIGTERM reaches serve and its crawls
    assert re.search(r"^USER iocwatch$", text, re.M)
    for pkg in ("core", "crawlers", "nlp", "security", "index", "dashboard", "iocwatch"):
        assert f"COPY {pkg} ./{pkg}" in text
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in ignore and ".venv" in ignore and "data" in ignore


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} (and $$ for a literal $)."""
    def sub(m: re.Match) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        have = env.get(name, "")
        if op == ":?" and not have:
            raise KeyError(f"{name}: {arg}")
        if op == ":-" and not have:
            return arg
        return have

    return VAR.sub(sub, value).replace("$$", "$")


def test_compose_app_environment_loads_as_valid_settings(compose, monkeypatch, tmp_path):
    from core.settings import load_settings

    env = {**_env_example(), "ELASTIC_PASSWORD": "mat-khau-thu", "KIBANA_PASSWORD": "kibana-thu"}
    for name in ("collector", "monitor", "dashboard"):
        svc_env = {k: _interpolate(str(v), env) for k, v in compose["services"][name]["environment"].items()}
        for key in list(os.environ):
            if key.startswith("IOCWATCH_"):
                monkeypatch.delenv(key)
        for key, value in svc_env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(tmp_path)
        s = load_settings()
        assert s.store == "elasticsearch" and s.es_url == "http://elasticsearch:9200"
        assert s.index.es_password.get_secret_value() == "mat-khau-thu"
        assert s.notify.smtp_port == 587 and s.notify.email_to == []
        assert not s.crawl.redis_url and not s.notify.webhook_url
        if name == "monitor":
            assert s.serve.monitor_pcap_dir == "/captures" and s.serve.monitor_logs == []


def test_compose_missing_required_secret_is_refused(compose):
    env = _env_example()  # ELASTIC_PASSWORD empty, as in the example
    es_env = compose["services"]["elasticsearch"]["environment"]
    with pytest.raises(KeyError, match="ELASTIC_PASSWORD"):
        _interpolate(es_env["ELASTIC_PASSWORD"], env)
