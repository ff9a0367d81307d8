"""The ``build`` session (``nox -s build``; docs/ci-cd.md, "The release build").

- ``native``: this machine's images, built with ``docker build``, tagged with the git SHA;
- ``release`` (``--push``): every service for every platform through buildkitd + buildx,
  pushed by SHA tag, digests read back, SBOMs, ``release.json``;
- ``base_image``: the base every image builds FROM, natively and for every platform (offline:
  built from Debian packages with mmdebstrap);
- ``metadata``: build metadata in the seed design's schema, and its validation (pure);
- ``reports``: the models of ``release.json`` and ``build-metadata.json`` (their schemas,
  ``release.schema.json`` and ``build-metadata.schema.json``, are generated from them);
- ``referrers``: OCI artifacts (the SBOMs) attached to an image manifest;
- ``command``: ``build`` and ``base-image``.
"""
