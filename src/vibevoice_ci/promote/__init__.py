"""The ``promote`` session (``nox -s promote``): ``latest`` and the version tag move to the
pushed digests only after smoke passed on exactly those digests and the commit's tests passed
(``session``; ``command``; ``tests_gate``: the commit's CI test run, as GitHub's REST API lists
it, which sign checks too; ``reports``: ``promote.json``'s model and the gate's record, from
which ``promote.schema.json`` is generated)."""
