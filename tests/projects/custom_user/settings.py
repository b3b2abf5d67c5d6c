"""A host project with a swapped ``AUTH_USER_MODEL`` whose username is the email address.

Run: ``pytest --ds=tests.projects.custom_user.settings tests/accounts/test_custom_user.py``
"""

from ..sqlite.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.projects.custom_user.people"]  # noqa: F405
AUTH_USER_MODEL = "people.Person"

# allauth, when installed, logs in by email: there is no username field
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
