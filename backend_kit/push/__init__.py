"""Installations and push notifications, with Parse Server's semantics.

``/installations`` (and ``/classes/_Installation``) registers devices: one installation
per ``installationId``, a ``deviceToken`` held by one installation only, ``channels``,
``badge``, ``timeZone``, ``localeIdentifier``... Each installation with a push type
has its django-push-notifications device record (``APNSDevice``, ``GCMDevice``,
``WebPushDevice``), kept in step with it.

``POST /push`` (master key) targets installations by ``channels`` or a ``where``,
records a ``_PushStatus`` and answers at once with its id in
``X-Parse-Push-Status-Id``. The sending runs on Celery (or in a thread of the web
process without a broker): the audience is cut into batches of ``BATCH_SIZE``
installations by objectId ranges, each batch a task of its own, so neither the
planner nor a worker ever holds more than one batch. Transports (APNs, FCM, Web
Push, or the recording/logging ones) are configured per device type in
``BACKEND_KIT["PUSH"]`` (see :mod:`backend_kit.push.app_settings`).

Deployment (beside the jobs app's worker)::

    celery -A myproject worker -l info
    celery -A myproject beat -l info   # starts scheduled pushes (backend_kit.push.due)
"""

# Celery task names: stable strings, stored in queued messages and schedules.
START_TASK = "backend_kit.push.start"
BATCH_TASK = "backend_kit.push.batch"
DUE_TASK = "backend_kit.push.due"
