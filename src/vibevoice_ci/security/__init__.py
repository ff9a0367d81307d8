"""The supply-chain sessions: `audit` (pip-audit), `trivy` (images, config, secrets), `sign`.

`vulnreport` holds what the two scanners share: the vulnerability report in the seed design's
schema, the severity gate with its allow-list, and the SARIF log. `provenance` is the SLSA v1
provenance of a release image, built from the build's metadata and checked (pure); `sign` is
the sign session: cosign signatures, provenance and SBOM attestations, and their verification.
"""
