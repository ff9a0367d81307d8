"""The ``sign`` session (``nox -s sign``; docs/ci-cd.md, "Signing and provenance").

- ``session``: once the commit's tests passed (``promote.tests_gate``), sign every released
  digest, attest provenance (index) and SBOMs (platform manifests), verify signatures and
  attestations;
- ``provenance``: the SLSA v1 provenance built from ``release.json`` and the build metadata,
  and its completeness check (pure);
- ``reports``: ``sign.json``'s model (its schema, ``sign.schema.json``, is generated from it);
- ``command``: the ``sign`` subcommand.
"""
