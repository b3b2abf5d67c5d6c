"""The demo task board: a small web app on the Parse JS SDK, served at ``/``."""
