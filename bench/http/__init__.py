"""HTTP benchmark: backend_kit against Parse Server and PostgreSQL's own speed.

Run it with ``python3 bench/run.py`` (see ``bench/README.md``).
"""
