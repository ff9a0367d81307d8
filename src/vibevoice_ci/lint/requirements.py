"""The committed hashed requirements files, and whether they are still current.

Two kinds, both written by ``python -m vibevoice_ci export-requirements`` and checked by its
``--check`` (which the ``lint`` session runs):

* each service's image requirements (``infra/docker/requirements/<service>.txt``), exported
  from uv.lock, so a Dockerfile builds with plain ``docker build`` and an audit has an exact
  list;
* the CI tools file (``.github/requirements/ci-tools.txt``, see :mod:`vibevoice_ci.lint.ci_tools`),
  compiled from the nox and uv versions in ``[tool.vibevoice-ci.tools]``, which every
  GitHub Actions job installs with ``pip --require-hashes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.files import write_text_atomic
from vibevoice_ci.lint import ci_tools
from vibevoice_ci.tools import uv

HEADER = (
    "# Generated from uv.lock by `python -m vibevoice_ci export-requirements`; do not edit.\n"
    "# Installed with pip --require-hashes by infra/docker/{service}.Dockerfile.\n"
)
# ExportDrift.service of the CI tools file (service names come from the config's tables).
CI_TOOLS = "ci-tools"


@dataclass(frozen=True)
class ExportDrift:
    """A committed file that no longer matches what it is generated from (``source``)."""

    service: str
    path: str
    source: str = "uv.lock"


def expected_requirements(config: PipelineConfig, service: str) -> str:
    extra = config.service(service).extra
    return HEADER.format(service=service) + uv.export_requirements(config.root, extra=extra)


def export_all(config: PipelineConfig, *, upgrade_ci_tools: bool = False) -> list[str]:
    """Rewrite every service's requirements file and the CI tools file; return the paths.

    ``upgrade_ci_tools`` re-resolves nox's and uv's dependencies to their newest versions
    instead of keeping the pins the CI tools file already has.
    """
    written = []
    for name, service in config.services.items():
        write_text_atomic(service.requirements, expected_requirements(config, name))
        written.append(_relative(config, service.requirements))
    if ci_tools.is_managed(config.root):
        path = config.root / ci_tools.REQUIREMENTS_PATH
        write_text_atomic(path, ci_tools.expected_text(config, upgrade=upgrade_ci_tools))
        written.append(_relative(config, path))
    return written


def drift(config: PipelineConfig) -> list[ExportDrift]:
    """Committed files that no longer match uv.lock or ``[tool.vibevoice-ci.tools]``."""
    stale = []
    for name, service in config.services.items():
        if _read(service.requirements) != expected_requirements(config, name):
            stale.append(ExportDrift(name, _relative(config, service.requirements)))
    if ci_tools.is_managed(config.root):
        path = config.root / ci_tools.REQUIREMENTS_PATH
        if _read(path) != ci_tools.expected_text(config):
            source = f"{ci_tools.TOOLS_TABLE} (nox, uv)"
            stale.append(ExportDrift(CI_TOOLS, _relative(config, path), source))
    return stale


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _relative(config: PipelineConfig, path: Path) -> str:
    return str(path.relative_to(config.root))
