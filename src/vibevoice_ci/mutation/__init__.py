"""The ``mutation`` session (``nox -s mutation``, not run by default): mutmut mutates each module
that decides a gate and runs that module's own tests against every mutant; each module must
kill at least its minimum share (``score``: counting and the verdict, pure; ``equivalents``:
the listed mutants no test can tell apart, and why; ``session``; ``command``; ``reports``:
``mutation.json``'s model, from which ``mutation.schema.json`` is generated)."""
