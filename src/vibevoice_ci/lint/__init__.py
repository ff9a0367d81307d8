"""The ``lint`` session's own commands (``nox -s lint``; ruff and mypy run straight from nox).

- ``infra``: actionlint, zizmor, hadolint and ShellCheck over the workflows, Dockerfiles and
  scripts, with a summary (``lint-infra``);
- ``requirements``: the committed hashed requirements files exported from uv.lock, and
  whether they are current (``export-requirements [--check]``);
- ``ci_tools``: the hashed file every workflow job installs nox and uv from;
- ``command``: the two subcommands.
"""
