"""The release build: multi-platform images pushed by digest, SBOMs, metadata, promotion.

See docs/ci-cd.md, "The release build". Modules: ``reference`` (image references, pure),
``referrers`` (OCI artifacts attached to an image), ``base`` (the multi-platform base image
offline machines build), ``multiarch`` (build and push every service), ``sbom`` (syft SBOMs,
attached as referrers), ``promote`` (move ``latest`` / the version tag once smoke passed).
"""
