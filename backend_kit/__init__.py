"""backend_kit: a Parse-compatible backend as reusable Django apps."""

__version__ = "0.1.0.dev0"
PARSE_SERVER_COMPATIBLE_VERSION = "9.10.0"
