"""The container image's recipe: one multi-stage Dockerfile, hashed dependencies, nothing extra inside."""

import json
import re

from tests.deploy.conftest import REPO

TEST_ONLY = {"pytest", "ruff", "iniconfig", "pluggy"}
# schemathesis (the fuzz run in tests/faults) and what it alone brings in
TEST_ONLY |= {"schemathesis", "hypothesis", "hypothesis-graphql", "graphql-core", "harfile", "jsonschema-rs"}
TEST_ONLY |= {"pyrate-limiter", "sortedcontainers", "anyio"}
# openapi-spec-validator (the OpenAPI document's own test) and what it needs
TEST_ONLY |= {"openapi-spec-validator", "openapi-schema-validator", "jsonschema", "jsonschema-path", "referencing"}
TEST_ONLY |= {"jsonschema-specifications", "rpds-py", "attrs", "lazy-object-proxy", "pathable", "rfc3339-validator"}
# Fixed CVE-2024-6345 (< 70.0) and CVE-2025-47273 (< 78.1.1); below 81, which drops the pkg_resources
# that nameko 2.14's CLI imports.
IMAGE_SETUPTOOLS = "80.9.0"


def _instructions() -> list[tuple[str, str]]:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _pins(path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s\\;]+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


def test_the_dockerfile_is_multi_stage_on_a_pinned_base():
    froms = [args for op, args in _instructions() if op == "FROM"]
    console, froms = froms[0], froms[1:]
    assert re.fullmatch(r"node:22\.\d+\.\d+-bookworm-slim@sha256:[0-9a-f]{64} AS console", console), console
    assert len(froms) == 2 and froms[0].endswith(" AS build")
    for args in froms:
        image = args.split()[0]
        assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", image), image
    assert froms[0].split()[0] == froms[1].split()[0], "build and final stages share one base"


def test_the_final_stage_runs_as_a_numeric_non_root_user_with_an_exec_form_command():
    instructions = _instructions()
    ops = [op for op, _ in instructions]
    final = instructions[len(ops) - 1 - ops[::-1].index("FROM") :]
    users = [args for op, args in final if op == "USER"]
    assert users and re.fullmatch(r"[1-9]\d{3,}:[1-9]\d{3,}", users[-1]), users
    commands = [args for op, args in final if op in ("CMD", "ENTRYPOINT")]
    assert commands and all(isinstance(json.loads(args), list) for args in commands), "exec form only"
    assert json.loads(commands[-1])[-1] == "gateway.app:create_app()"
    final_text = " ".join(args for _, args in final)
    for tool in ("gcc", "build-essential", "apt-get install", "pip install"):
        assert tool not in final_text, f"the final stage must not install {tool}"
    assert not re.search(r"\b(sleep|until|wait-for)\b", (REPO / "Dockerfile").read_text()), "no wait loops"
    copies = [args for op, args in final if op == "COPY"]
    assert all(args.startswith("--from=build") for args in copies), "the final stage copies only from the build"


def test_the_image_serves_the_console_built_from_its_lock():
    instructions = _instructions()
    runs = [args for op, args in instructions if op == "RUN"]
    assert "npm ci --no-audit --no-fund" in runs and "npm run build" in runs, "npm ci: the lock, nothing else"
    assert ("COPY", "--from=console /src/console/dist /app/console") in instructions
    assert "CONSOLE_DIR=/app/console" in " ".join(args for op, args in instructions if op == "ENV")


def test_dependencies_install_only_with_hashes_from_the_lock():
    runs = " ".join(args for op, args in _instructions() if op == "RUN")
    installs = re.findall(r"pip install [^&]*", runs)
    assert installs and all("--require-hashes" in install for install in installs), installs


def test_the_lock_pins_every_runtime_requirement_at_the_same_version_with_hashes():
    lock = (REPO / "requirements.lock").read_text()
    locked, wanted = _pins(REPO / "requirements.lock"), _pins(REPO / "requirements.txt")
    runtime = {name: version for name, version in wanted.items() if name not in TEST_ONLY}
    runtime["setuptools"] = IMAGE_SETUPTOOLS  # scripts/lock.sh pins the image's own, fixed release
    assert {name: locked.get(name) for name in runtime} == runtime, (
        "run scripts/lock.sh after changing requirements.txt"
    )
    assert not TEST_ONLY & set(locked), "test tools stay out of the image"
    blocks = re.split(r"\n(?=[A-Za-z])", lock.split("\n", 2)[2])
    for block in blocks:
        if "==" in block.split("\n", 1)[0]:
            assert "--hash=sha256:" in block, block.split("\n", 1)[0]


def test_dockerignore_lets_in_only_what_the_image_needs():
    lines = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*", "deny by default: no .venv, .state, .git or secrets in the build context"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    python = {"requirements.lock", "casewire", "casewire_cli", "gateway", "services"}
    assert allowed == python | {"console", "clients/typescript/openapi.json", "clients/typescript/src"}
    copied = {
        src
        for op, args in _instructions()
        if op == "COPY" and not args.startswith("--from")
        for src in args.split()[:-1]
    }
    assert all(src in allowed or src.split("/", 1)[0] in python | {"console"} for src in copied), copied
    assert {"console/node_modules", "console/dist", "console/e2e"} <= set(lines), "the console's sources only"


def test_the_image_carries_no_setuptools_with_known_vulnerabilities():
    version = tuple(int(part) for part in _pins(REPO / "requirements.lock")["setuptools"].split("."))
    assert (78, 1, 1) <= version < (81,), "CVE-2025-47273 is fixed in 78.1.1; 81 removes pkg_resources"
    assert IMAGE_SETUPTOOLS in (REPO / "scripts" / "lock.sh").read_text(), "lock.sh keeps the same pin"


def test_the_final_stage_drops_the_base_images_own_packaging_tools():
    instructions = _instructions()
    ops = [op for op, _ in instructions]
    final = instructions[len(ops) - 1 - ops[::-1].index("FROM") :]
    runs = " ".join(args for op, args in final if op == "RUN")
    assert re.search(r"pip uninstall --yes (?=.*setuptools)(?=.*wheel)(?=.*pip)", runs), runs
