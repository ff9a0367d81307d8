"""The ``trivy`` session (``nox -s trivy``; docs/ci-cd.md, "trivy").

- ``session``: database download, scans per image platform and config folder, reports;
- ``imagescan``: the judgement (pure): image targets from release.json, the three parts'
  verdicts with exceptions, ``trivy.json``, SARIF;
- ``reports``: the models of ``trivy.json`` and of the per-image vulnerability reports (their
  schemas, ``trivy.schema.json`` and ``vulnerability-report.schema.json``, are generated);
- ``planted_db``: a real trivy database with planted advisories, for the tests;
- ``command``: ``trivy`` and ``trivy-expect``.

The vulnerability report and gate it shares with ``audit`` are
``vibevoice_ci.core.vulnerabilities``, the report's model ``core.vulnerability_models``.
"""
