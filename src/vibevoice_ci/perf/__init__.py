"""The perf session: a load test of the tts service and a noise-aware regression gate.

- ``client``: one request on a raw socket (HTTP) or a WebSocket, timed to the first audio byte;
- ``loadgen``: closed- and open-loop load, bounded in count and time;
- ``realtime``: whether a stream stays ahead of playback;
- ``capacity``: the realtime capacity steps under the TTFA objective, with a confirmation
  repeat of a level not sustained;
- ``engine_limit``: the engine's real-time factor and limit from two scrapes of the service's
  ``/metrics``;
- ``stats``: percentiles and the significance tests (scipy);
- ``metrics``: the metrics document (seed design schema plus samples and machine) and its
  validation;
- ``reports``: the models of metrics.json (and the baseline), verdict.json and history.jsonl's
  lines; their schemas (``metrics``, ``verdict``, ``history-entry.schema.json``) are generated;
- ``regression``: the gate, pure; ``check``: its command line and the baseline file;
- ``chart``: the trend chart; ``session``: ``nox -s perf``.
"""
