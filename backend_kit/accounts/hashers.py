"""The password hashes of users imported from Parse Server: bare bcrypt, checked by Django.

Parse Server stores ``bcrypt(password, cost 10)`` as it comes out of bcryptjs or
@node-rs/bcrypt: ``$2a$10$<salt><checksum>`` (``$2b$``, ``$2y$`` from other writers).
``bk_import`` stores it as ``parse_bcrypt$<that hash>`` on the Django user. Add the
hasher below to ``PASSWORD_HASHERS`` (after the preferred one) and ``authenticate()``
accepts the old passwords; Django re-hashes each with the preferred hasher on the
user's first successful login, so the bcrypt hashes fade out as users come back.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.hashers import BCryptPasswordHasher

ALGORITHM = "parse_bcrypt"
HASHER_PATH = "backend_kit.accounts.hashers.ParseBCryptPasswordHasher"
BCRYPT_HASH_RE = re.compile(r"^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$")
# bcrypt reads 72 bytes of a password; Parse's libraries drop the rest silently, the
# Python library refuses longer passwords, so they are cut here the same way.
BCRYPT_MAX_BYTES = 72


def is_parse_hash(value: Any) -> bool:
    """A bcrypt hash as Parse Server stores it."""
    return isinstance(value, str) and bool(BCRYPT_HASH_RE.match(value))


def from_parse(bcrypt_hash: str) -> str:
    """The Django form (``parse_bcrypt$$2a$10$...``) of a hash Parse Server stored."""
    return f"{ALGORITHM}${bcrypt_hash}"


class ParseBCryptPasswordHasher(BCryptPasswordHasher):
    """Verifies Parse Server's bcrypt hashes (imported as ``parse_bcrypt$<hash>``).

    Meant to be listed after the project's preferred hasher: a password it accepts is
    then re-hashed with the preferred one at once. Listed first, it would hash new
    passwords the way Parse does (bcrypt, cost 10), which keeps them readable by a
    Parse Server sharing the database dump.
    """

    algorithm = ALGORITHM
    digest = None
    rounds = 10  # Parse Server's cost

    def encode(self, password: str, salt: bytes | str) -> str:
        bcrypt = self._load_library()
        salt = salt.encode("ascii") if isinstance(salt, str) else salt
        data = bcrypt.hashpw(password.encode()[:BCRYPT_MAX_BYTES], salt)
        return f"{self.algorithm}${data.decode('ascii')}"

    def verify(self, password: str, encoded: str) -> bool:
        algorithm, _, data = encoded.partition("$")
        if algorithm != self.algorithm or not is_parse_hash(data):
            return False
        bcrypt = self._load_library()
        return bool(bcrypt.checkpw(password.encode()[:BCRYPT_MAX_BYTES], data.encode("ascii")))
