"""The ``smoke`` session (``nox -s smoke``; docs/ci-cd.md, "Smoke modes").

- ``session``: the mode rule, the compose stack or a local process, teardown as a check, the
  report on every path; ``run_service_checks``, one service's checks (what
  ``scripts/smoke_test.py`` and the helm session's level 3 run too);
- ``checks``: the tts checks (pure evaluators + the HTTP and WebSocket drivers);
- ``agent_checks``: the agent's checks, one full turn and its speech;
- ``speech``: does the audio say the text (word recall per sentence; PocketSphinx);
- ``local_service``: a service started as a local process on 127.0.0.1;
- ``reports``: ``smoke.json``'s model (``smoke.schema.json`` is generated from it);
- ``command``: the ``smoke`` subcommand and ``--image-digest``/``--release`` parsing.
"""
