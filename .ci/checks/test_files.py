"""Static checks of the deployment files: compose, .env.example, Dockerfile, lock, lint reach."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.support.servers import PROJECT_DIR

COMPOSE = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ENV_EXAMPLE = (PROJECT_DIR / ".env.example").read_text()
TEMPLATE = "\n".join(
    line
    for line in (PROJECT_DIR / "deploy/nginx/templates/default.conf.template")
    .read_text()
    .splitlines()
    if not line.lstrip().startswith("#")
)
DOCUMENTED = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE, re.M))


def _compose_text() -> str:
    lines = (PROJECT_DIR / "docker-compose.yml").read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def _tracked(*patterns: str) -> list[str]:
    result = subprocess.run(
        ["git", "ls-files", "-z", *patterns],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return [name for name in result.stdout.split("\0") if name]


def test_env_example_documents_every_variable_compose_interpolates():
    used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", _compose_text()))
    assert used - DOCUMENTED == set()


def test_env_example_documents_every_setting_the_code_reads():
    read = set()
    for path in PROJECT_DIR.glob("*/**/*.py"):
        if path.parts[len(PROJECT_DIR.parts)] in {"tests", ".venv", ".ci"}:
            continue
        text = path.read_text()
        read |= set(re.findall(r"\benv(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", text))
        read |= set(re.findall(r"os\.environ(?:\.get)?[\[(]\s*[\"']([A-Z][A-Z0-9_]*)", text))
        read |= set(re.findall(r"getenv\(\s*[\"']([A-Z][A-Z0-9_]*)", text))
    read -= {"DJANGO_SETTINGS_MODULE"}
    assert {"DATABASE_URL", "SECRET_KEY", "STATIC_ROOT"} <= read  # the scan sees settings.py
    assert read - DOCUMENTED == set()


def test_env_example_documents_every_variable_of_the_entrypoint():
    text = (PROJECT_DIR / "docker-entrypoint.sh").read_text()
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text)) - {"PGCONNECT_TIMEOUT"}
    assert used - DOCUMENTED == set()


def test_required_secrets_are_change_me_placeholders_in_env_example():
    values = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", ENV_EXAMPLE, re.M))
    required = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):\?", _compose_text()))
    assert required == {"SECRET_KEY", "POSTGRES_PASSWORD"}
    assert all(values[name].startswith("CHANGE-ME") for name in required)


def test_compose_has_no_obsolete_version_key():
    assert "version" not in COMPOSE


def test_only_the_proxy_publishes_a_port():
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"proxy"}
    assert SERVICES["proxy"]["image"].startswith("nginx:")


def test_the_proxy_renders_the_repository_template_with_every_variable_it_needs():
    proxy = SERVICES["proxy"]
    mounts = {volume.split(":")[1] for volume in proxy["volumes"]}
    assert "/etc/nginx/templates" in mounts
    assert any(m.startswith("/docker-entrypoint.d/") and m.endswith(".envsh") for m in mounts)
    needed = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", TEMPLATE))
    given = set(proxy["environment"]) | {"API_UPSTREAM_SERVERS", "IMPORT_BODY_LIMIT"}  # .envsh
    assert needed - given == set()
    assert proxy["environment"]["API_UPSTREAMS"] == "api:8000"
    envsh = PROJECT_DIR / "deploy/nginx/docker-entrypoint.d/10-api-upstreams.envsh"
    assert os.access(envsh, os.X_OK), "the image sources only executable .envsh files"


def test_proxy_and_api_share_the_body_limits():
    app_env = SERVICES["api"]["environment"]
    for name in ("MAX_BODY_BYTES", "IMPORT_MAX_BYTES"):
        assert SERVICES["proxy"]["environment"][name] == app_env[name]
    assert "client_max_body_size ${MAX_BODY_BYTES};" in TEMPLATE
    assert "client_max_body_size ${IMPORT_BODY_LIMIT};" in TEMPLATE


def test_the_migrate_job_has_no_statement_timeout():
    assert SERVICES["migrate"]["environment"]["DB_STATEMENT_TIMEOUT"] == "0"


def test_api_runs_replicas_behind_one_proxy_and_never_migrates():
    api = SERVICES["api"]
    replicas = re.fullmatch(r"\$\{API_REPLICAS:-(\d+)\}", str(api["deploy"]["replicas"]))
    assert replicas and int(replicas.group(1)) >= 2
    env = api["environment"]
    assert env["NUM_PROXIES"] == "${NUM_PROXIES:-1}"
    assert env["MIGRATE_ON_START"] == "false"
    proxy_address = SERVICES["proxy"]["networks"]["backend"]["ipv4_address"]
    assert env["FORWARDED_ALLOW_IPS"] == proxy_address
    assert "ports" not in api


def test_migrate_is_a_one_shot_job_the_api_waits_for():
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["image"] == SERVICES["api"]["image"]
    depends = SERVICES["api"]["depends_on"]
    assert depends["migrate"] == {"condition": "service_completed_successfully"}
    assert SERVICES["proxy"]["depends_on"]["api"] == {"condition": "service_healthy"}


def test_backend_network_is_internal():
    assert COMPOSE["networks"]["backend"]["internal"] is True
    for name in ("api", "migrate", "db", "redis"):
        assert SERVICES[name]["networks"] == ["backend"], name


def _lock() -> dict:
    return tomllib.loads((PROJECT_DIR / "uv.lock").read_text())


def test_dockerfile_installs_from_the_lock_with_the_uv_the_lock_pins():
    dockerfile = (PROJECT_DIR / "Dockerfile").read_text()
    pinned = re.search(r"^ARG UV_VERSION=(\S+)$", dockerfile, re.M)
    locked = {p["name"]: p["version"] for p in _lock()["package"]}
    assert pinned and pinned.group(1) == locked["uv"]
    assert "COPY pyproject.toml uv.lock ./" in dockerfile
    assert "uv sync --locked" in dockerfile


def test_ruff_is_capped():
    with (PROJECT_DIR / "pyproject.toml").open("rb") as fh:
        dev = tomllib.load(fh)["project"]["optional-dependencies"]["dev"]
    ruff = next(spec for spec in dev if spec.startswith("ruff"))
    assert "<" in ruff


def test_ruff_lints_every_tracked_python_file():
    ruff = Path(os.environ.get("VIRTUAL_ENV") or PROJECT_DIR / ".venv") / "bin" / "ruff"
    if not ruff.exists():
        ruff = PROJECT_DIR / ".venv" / "bin" / "ruff"
    shown = subprocess.run(
        [str(ruff), "check", "--show-files", "."],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    linted = {Path(line.strip()).resolve() for line in shown.splitlines() if line.strip()}
    tracked = {(PROJECT_DIR / name).resolve() for name in _tracked("*.py")}
    assert tracked - linted == set()  # migrations too: ruff formats what Django generates


@pytest.mark.parametrize(
    "pattern", ["*.sh", ".ci/run", "Dockerfile", "*.envsh", "*.yml", "*.toml", "*.template"]
)
def test_no_python_hides_in_other_files(pattern):
    """Python lives in .py files, where ruff sees it: no heredocs fed to an interpreter."""
    heredoc = re.compile(r"python3?\b[^\n|]*<<-?\s*['\"]?[A-Z]+", re.I)
    offenders = [
        name for name in _tracked(pattern) if heredoc.search((PROJECT_DIR / name).read_text())
    ]
    assert offenders == []
