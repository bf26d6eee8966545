"""The deployment files: every long-running service has a health check, Redis is durable and never
evicts, the image runs as non-root, and the commands named exist."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml

from syndicate.cli import main
from tests.helpers import REPO


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    return data


def test_every_long_running_service_has_a_health_check() -> None:
    # Given the compose file
    services = compose()["services"]
    # Then Redis, PostgreSQL, the worker, the scheduler and the API are all there, each with a health check
    for name in ("redis", "postgres", "worker", "scheduler", "api"):
        assert services[name]["healthcheck"]["test"], name
    # And the syndicate services probe through `syndicate health`
    for name in ("worker", "scheduler", "api"):
        assert services[name]["healthcheck"]["test"][:3] == ["CMD", "syndicate", "health"], name


def test_redis_keeps_an_append_only_file_and_never_evicts() -> None:
    command = compose()["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_the_commands_the_compose_file_runs_exist() -> None:
    # Given every syndicate command the services run (and their health checks)
    services = compose()["services"]
    used = {s["command"][0] for s in services.values() if "build" in s}
    used |= {s["healthcheck"]["test"][2] for s in services.values() if "build" in s and "healthcheck" in s}
    # Then the CLI has each of them
    assert used <= set(main.commands), used - set(main.commands)


def test_the_image_runs_as_a_non_root_user() -> None:
    lines = [ln.split() for ln in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines() if ln.strip()]
    users = [ln[1] for ln in lines if ln[0] == "USER"]
    assert users and users[-1] not in ("root", "0")


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
def test_docker_compose_accepts_the_file() -> None:
    done = subprocess.run(["docker-compose", "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
