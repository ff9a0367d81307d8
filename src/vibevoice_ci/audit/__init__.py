"""The ``audit`` session (``nox -s audit``; docs/ci-cd.md, "audit").

- ``session``: targets (every image, extra, group and the CI tools file), pip-audit's runs
  judged, what it could not check made ``Unchecked``; ``audit.json``, ``audit.sarif``;
- ``reports``: the model of ``audit.json`` (its schema, ``audit.schema.json``, is generated);
- ``osv``: a finding's severity from its OSV record (the pure rule, and a small client);
- ``cvss``: CVSS v3 base scores from a vector;
- ``dependabot``: ``.github/dependabot.yml`` against its vendored schema;
- ``command``: the ``audit`` subcommand.

The vulnerability report and gate it shares with ``trivy`` are
``vibevoice_ci.core.vulnerabilities``, the report's model ``core.vulnerability_models``.
"""
