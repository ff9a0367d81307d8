"""The foundations every session stands on: the configuration (`config`), what the run's
environment says (`environment`), exit codes (`errors`), outcomes and summaries
(`outcome`), atomic files (`files`), retries (`retry`), image references (`image_reference`)
and the vulnerability report both scanners share (`vulnerabilities`).

Nothing here imports a session package or `vibevoice_ci.tools` (tests/unit/test_layers.py).
"""
