"""Password hashing at Parse Server's cost, for the login benchmark only.

Parse Server hashes with bcrypt at cost 10. Django's bcrypt hashers default to cost
12 (four times slower) and its default PBKDF2 to a comparable-or-higher cost, so the
login numbers would compare hash costs rather than servers.
"""

from django.contrib.auth.hashers import BCryptSHA256PasswordHasher


class BCryptSHA256Cost10PasswordHasher(BCryptSHA256PasswordHasher):
    """Django's ``bcrypt_sha256`` (SHA-256, then bcrypt) at cost 10, as Parse Server."""

    rounds = 10
