"""``nox -s workflows``: the workflow files themselves, executed by act as GitHub's runner would
run them (docs/workflows.md, "The workflows executed by act")."""
