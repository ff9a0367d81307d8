"""The ``report`` session (``nox -s report``): one page and one summary of every session's
report.

- ``documents``: what a session folder's files say (pure); ``model``: the overview's data;
- ``read``: reports/ into an overview (the edge); ``render``: the page and the Markdown (pure);
- ``session``: write, check in Chromium, screenshot;
- ``command``: ``report``, and ``expect-status`` (any session's report has a given status).
"""
