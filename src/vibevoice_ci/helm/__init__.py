"""The ``helm`` session (docs/helm.md): the chart checked at three levels.

- ``static``: lint, render, parse, required resources, API schemas, removed APIs (pure checks
  over the rendered manifests: manifests, checks, apis, schema).
- ``cluster``: a real API server with simulated nodes (controlplane): install, upgrade,
  rollback (deploy).
- ``pods``: a real kubelet joins that control plane and runs the built images (node).

``session`` runs them and writes ``helm.json``, whose model is in ``reports`` (its schema,
``helm.schema.json``, is generated from it).
"""
