"""Supply-chain sessions: dependency audit, image scans, signatures and provenance.

Modules: ``provenance`` (the SLSA v1 provenance of a release image, built from the build's
metadata and checked, pure), ``sign`` (the sign session: cosign signatures, provenance and
SBOM attestations, and their verification).
"""
