"""The ``promote`` session (``nox -s promote``): ``latest`` and the version tag move to the
pushed digests only after smoke passed on exactly those digests (``session``; ``command``;
``reports``: ``promote.json``'s model, from which ``promote.schema.json`` is generated)."""
