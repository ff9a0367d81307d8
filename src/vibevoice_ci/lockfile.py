"""The hashed requirements files the images install from, exported from uv.lock.

They are committed (so a Dockerfile builds with plain ``docker build`` and an audit has an
exact list) and the ``lint`` session checks that they still match the lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from vibevoice_ci.config import PipelineConfig
from vibevoice_ci.report import write_text_atomic
from vibevoice_ci.tools import uv

HEADER = (
    "# Generated from uv.lock by `python -m vibevoice_ci export-requirements`; do not edit.\n"
    "# Installed with pip --require-hashes by infra/docker/{service}.Dockerfile.\n"
)


@dataclass(frozen=True)
class ExportDrift:
    service: str
    path: str


def expected_requirements(config: PipelineConfig, service: str) -> str:
    extra = config.service(service).extra
    return HEADER.format(service=service) + uv.export_requirements(config.root, extra=extra)


def export_all(config: PipelineConfig) -> list[str]:
    """Rewrite every service's requirements file; return the paths written."""
    written = []
    for name, service in config.services.items():
        write_text_atomic(service.requirements, expected_requirements(config, name))
        written.append(str(service.requirements.relative_to(config.root)))
    return written


def drift(config: PipelineConfig) -> list[ExportDrift]:
    """Services whose committed requirements file no longer matches uv.lock."""
    stale = []
    for name, service in config.services.items():
        current = (
            service.requirements.read_text(encoding="utf-8")
            if (service.requirements.is_file())
            else ""
        )
        if current != expected_requirements(config, name):
            stale.append(ExportDrift(name, str(service.requirements.relative_to(config.root))))
    return stale
