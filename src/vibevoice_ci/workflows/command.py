"""``workflows``: the workflows session's command (``nox -s workflows``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vibevoice_ci.core.command import Command, add_strict_option
from vibevoice_ci.core.config import PipelineConfig
from vibevoice_ci.core.errors import UsageError


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run",
        action="append",
        default=[],
        metavar="KEY",
        help="run only this planned run (and the runs it follows); repeatable; default: all",
    )
    parser.add_argument("--user", help="run act as this user (default: runner, when root)")
    parser.add_argument("--repository", help="owner/name for $GITHUB_REPOSITORY")
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="the runner's state folder (clone, runs, artifacts; one run at a time holds its "
        "lock); default: ~runner/vibevoice-act. The Actions cache stand-in's entries stay in "
        "~runner/vibevoice-act-cache, shared by every state folder as GitHub's cache is by "
        "every run",
    )
    parser.add_argument(
        "--job-env",
        action="append",
        default=[],
        type=_pair,
        metavar="NAME=VALUE",
        help="an extra variable in every job's environment; repeatable",
    )
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        type=_pair,
        metavar="NAME=VALUE",
        help="a repository variable (the vars context); repeatable",
    )
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="NAME",
        help="a secret, its value read from this process's environment; repeatable",
    )
    parser.add_argument(
        "--append",
        action="store_true",
        help="keep the runs already in reports/workflows/workflows.json (an earlier part of the "
        "same CI run) and their logs; a run named again replaces its record",
    )
    add_strict_option(parser)


def _run(args: argparse.Namespace, config: PipelineConfig) -> int:
    from vibevoice_ci.tools._exec import inherited
    from vibevoice_ci.workflows.session import DEFAULT_REPOSITORY, Request, run_workflows

    secrets = inherited(args.secret)
    missing = [name for name in args.secret if name not in secrets]
    if missing:
        raise UsageError(f"--secret {', '.join(missing)}: not set in the environment")
    try:
        request = Request(
            keys=tuple(args.run),
            user=args.user,
            repository=args.repository or DEFAULT_REPOSITORY,
            job_env=dict(args.job_env),
            variables=dict(args.var),
            secrets=secrets,
            strict=args.strict,
            state_dir=args.state_dir,
            append=args.append,
        )
        return run_workflows(config, request)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


COMMANDS = (
    Command(
        "workflows", "run the workflow files through act, as GitHub's runner", _arguments, _run
    ),
)
