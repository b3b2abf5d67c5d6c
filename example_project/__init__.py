"""The example host project.

Its Celery app is loaded with Django, so that ``@shared_task`` tasks bind to it in
web processes too (the jobs app sends tasks from there).
"""

import importlib.util

if importlib.util.find_spec("celery") is not None:
    from .celery import app as celery_app

    __all__ = ("celery_app",)
