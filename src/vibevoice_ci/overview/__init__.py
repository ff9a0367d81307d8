"""One report of every session: read reports/, render a static page and a summary."""
