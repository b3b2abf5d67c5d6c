"""Local stand-ins for services the tests cannot reach (OpenID Connect, GitHub, Facebook).

Each is a small threaded HTTP server on loopback that speaks the real protocol, started
by a fixture in :mod:`tests.stand_ins.fixtures` on a free port.
"""
