"""The supply-chain sessions: `audit` (pip-audit), `trivy` (images, config, secrets), `sign`.

`vulnreport` holds what the two scanners share: the vulnerability report in the seed design's
schema, the severity gate with its allow-list, and the SARIF log.
"""
