#!/usr/bin/env python3
"""Write the build metadata JSON (the seed design's schema) for a pushed image.

Usage: scripts/generate_build_metadata.py --image REF --digest sha256:... --platform os/arch
       [--platform ...] [--output FILE]

One record per platform: image, digest (the registry's digest of the pushed index, never a
local image ID), platform, git_sha, git_ref, workflow_run_id, build_timestamp (RFC 3339, UTC)
and builder. git_sha, git_ref and workflow_run_id come from GitHub's GITHUB_SHA, GITHUB_REF
and GITHUB_RUN_ID where set, else from the git checkout (a local build's run ID is "local").
The release build (`nox -s build -- --push`) writes the same records itself.

Exit codes: 0 written; 2 a value is missing or malformed (one line on stderr, nothing written).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from vibevoice_ci.build.metadata import generate
from vibevoice_ci.core.environment import run_environment
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, PipelineError
from vibevoice_ci.core.files import write_json_atomic
from vibevoice_ci.tools import git

REPOSITORY = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", required=True, help="the pushed image reference")
    parser.add_argument("--digest", required=True, help="the registry's digest (sha256:...)")
    parser.add_argument("--platform", action="append", required=True, help="os/arch (repeatable)")
    parser.add_argument("--output", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    try:
        try:
            state: git.GitState | None = git.state(REPOSITORY)
        except PipelineError:
            state = None
        records = generate(
            image=args.image,
            digest=args.digest,
            platforms=args.platform,
            run=run_environment(os.environ),
            git_sha=state.sha if state else None,
            git_ref=state.ref if state else None,
            built_at=datetime.now(UTC),
        )
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.output:
        write_json_atomic(args.output, records)
    else:
        print(json.dumps(records, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
