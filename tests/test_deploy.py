"""The deployment samples in deploy/ stay true to the code: every command they run is one the
CLI accepts, every variable they set is a setting papers-bot reads (and `.env.example`
documents), the proxy fronts the replicas the compose file starts, and the many-workspace
manifest is valid by Slack's own schema and asks for what the bot handles."""

from __future__ import annotations

import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema
import pytest
import yaml

from bot.cli import _parser
from bot.config import declared
from bot.slack.http import EVENTS_PATH
from bot.slack.workspaces import BOT_SCOPES, REDIRECT_PATH

ROOT = Path(__file__).parents[1]
DEPLOY = ROOT / "deploy"


def documented_settings() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def read_settings() -> set[str]:
    """Every variable `load_settings` reads: each setting's, and the one it falls back to."""
    return {
        name
        for _, declaration in declared()
        for name in (declaration["env"], declaration["also"])
        if name
    }


def assert_runs_papers_bot(command: list[str]) -> None:
    assert Path(command[0]).name == "papers-bot", command
    _parser().parse_args(command[1:])  # argparse exits (SystemExit) on what it does not know


def test_every_setting_papers_bot_reads_is_documented_in_env_example() -> None:
    assert read_settings() <= documented_settings()
    assert {"SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "PAPERS_SCHEDULER"} <= read_settings()


def test_compose_starts_postgresql_two_replicas_and_a_proxy_in_front_of_them() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    replicas = [n for n, s in services.items() if s.get("image") == "papers-bot" and n != "migrate"]
    assert sorted(replicas) == ["bot1", "bot2"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    default = json.loads(re.search(r"^CMD (.+)$", dockerfile, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert_runs_papers_bot(default)
    for name in [*replicas, "migrate"]:
        service = services[name]
        assert_runs_papers_bot(service.get("command", default))
        assert set(service["environment"]) <= read_settings()
        assert service["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert services["migrate"]["command"][1:] == ["db", "upgrade"]
    assert (
        services["bot1"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    )
    upstream = re.findall(r"server (\S+):3000", (DEPLOY / "nginx.conf").read_text())
    assert sorted(upstream) == replicas
    assert any("nginx.conf" in v for v in services["proxy"]["volumes"])


def test_systemd_unit_runs_a_replica_per_port_after_upgrading_the_schema() -> None:
    unit = (DEPLOY / "systemd" / "papers-bot@.service").read_text()
    commands = re.findall(r"^ExecStart(?:Pre)?=(.+)$", unit, re.MULTILINE)
    assert len(commands) == 2
    for command in commands:
        assert_runs_papers_bot(command.split())
    names = set(re.findall(r"^Environment=([A-Z_]+)=", unit, re.MULTILINE))
    assert names and names <= read_settings()
    assert "Environment=PORT=%i" in unit


@pytest.mark.parametrize("index", [0, 1])
def test_kubernetes_cronjobs_run_the_digest_command(index: int) -> None:
    jobs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "digest-cronjob.yaml").read_text()))
    job = jobs[index]
    assert job["kind"] == "CronJob" and job["spec"]["concurrencyPolicy"] == "Forbid"
    assert len(job["spec"]["schedule"].split()) == 5
    if "timeZone" in job["spec"]:
        ZoneInfo(job["spec"]["timeZone"])
    [container] = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert_runs_papers_bot(container["command"])
    assert container["command"][1] == "digest"


def test_the_many_workspace_manifest_is_valid_and_asks_for_what_the_bot_handles(
    fixtures: Path,
) -> None:
    manifest = yaml.safe_load((DEPLOY / "manifest.many-workspaces.yml").read_text())
    schema = json.loads((fixtures / "slack" / "manifest.schema.1.0.0.json").read_text())
    jsonschema.Draft7Validator(schema).validate(manifest)
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is False  # many workspaces run in HTTP mode
    assert {"app_uninstalled", "tokens_revoked"} <= set(
        settings["event_subscriptions"]["bot_events"]
    )
    [redirect] = manifest["oauth_config"]["redirect_urls"]
    assert redirect.endswith(REDIRECT_PATH)
    assert manifest["oauth_config"]["scopes"]["bot"] == BOT_SCOPES
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        *(c["url"] for c in manifest["features"]["slash_commands"]),
    ]
    assert all(url.endswith(EVENTS_PATH) for url in urls)


def test_the_image_the_unit_and_make_install_exactly_the_lock() -> None:
    """uv from its hash-pinned requirements, then `uv sync --locked` (never a resolve of its
    own): the Dockerfile, `make install` (the systemd unit's) and every make target."""
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    [bootstrap] = re.findall(r"^RUN pip install (.+)$", dockerfile, re.MULTILINE)
    assert "--require-hashes" in bootstrap and "scripts/uv-requirements.txt" in bootstrap
    syncs = re.findall(r"uv sync ([^&\n]+)", dockerfile)
    assert len(syncs) == 2 and all("--locked" in sync for sync in syncs)
    assert re.search(r"^COPY pyproject.toml uv.lock ", dockerfile, re.MULTILINE)
    unit = (DEPLOY / "systemd" / "papers-bot@.service").read_text()
    assert "make install" in unit and "/opt/papers-bot/.venv/bin/papers-bot" in unit
    makefile = (ROOT / "Makefile").read_text()
    installs = re.findall(r"^\t.*\b(?:pip install|uv sync|SYNC)\b.*$", makefile, re.MULTILINE)
    assert installs and all(
        "--require-hashes" in line or "--locked" in line or "$(SYNC)" in line for line in installs
    )
    assert "SYNC = $(UV) sync --locked" in makefile
    requirements = (ROOT / "scripts" / "uv-requirements.txt").read_text()
    pinned = re.search(r"^uv==([\d.]+)", requirements, re.MULTILINE)
    assert pinned and f'required-version = "=={pinned[1]}"' in (ROOT / "pyproject.toml").read_text()
