#!/usr/bin/env bash
# Print the path of an interpreter for the lowest or highest Python that pyproject.toml
# supports (its "Programming Language :: Python :: X.Y" classifiers), or nothing if this
# machine has none.
#
#   bash scripts/ci/find-python.sh highest|lowest
#
# Looks for pythonX.Y on PATH (one that really runs: a pyenv shim for a version that is
# installed but not selected does not), then in pyenv's versions folder.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
which_end="${1:-}"
case "$which_end" in
    highest|lowest) ;;
    *) echo "usage: find-python.sh highest|lowest" >&2; exit 2 ;;
esac

version="$(python3 - "$repo_root/pyproject.toml" "$which_end" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as handle:
    classifiers = tomllib.load(handle)["project"]["classifiers"]
prefix = "Programming Language :: Python :: "
versions = sorted(
    (tuple(int(part) for part in c[len(prefix):].split(".")) for c in classifiers
     if c.startswith(prefix) and c[len(prefix):].count(".") == 1),
)
chosen = versions[-1] if sys.argv[2] == "highest" else versions[0]
print(".".join(map(str, chosen)))
PY
)"

candidates=()
if command -v "python$version" >/dev/null 2>&1; then
    candidates+=("$(command -v "python$version")")
fi
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
for found in "$pyenv_root"/versions/"$version".*/bin/"python$version"; do
    [ -x "$found" ] && candidates+=("$found")
done

for candidate in "${candidates[@]}"; do
    if "$candidate" -c 'import sys, venv; print(sys.version)' >/dev/null 2>&1; then
        echo "$candidate"
        exit 0
    fi
done
