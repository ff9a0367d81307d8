"""One module per external tool. Each finds its binary, builds argument lists and parses output.

Argument building and output parsing are pure functions; ``run_tool`` in ``_exec`` is the one
place that starts a process.
"""
