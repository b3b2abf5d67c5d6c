"""Background and recurring jobs: cloud code that runs outside the request.

    from backend_kit import cloud

    @cloud.job("rebuildLeaderboard", time_limit=600, retries=3, retry_backoff=10)
    def rebuild(request):
        request.message("counting scores")
        ...
        return "leaderboard rebuilt"

``POST /jobs/<name>`` (master key) answers ``{}`` at once with the id of a
``_JobStatus`` object in ``X-Parse-Job-Status-Id``; the job runs on a Celery worker
and its status goes ``pending`` -> ``running`` -> ``succeeded`` or ``failed``.
Recurring jobs are django-celery-beat periodic tasks, edited in the admin.

Workers redeliver a job whose worker died (late acknowledgement), so write jobs to
be safe to run twice: ``request.job_id`` is stable across reruns and retries.

Deployment (the host project's Celery app, here ``example_project``)::

    celery -A example_project worker -l info
    celery -A example_project beat -l info --scheduler django_celery_beat.schedulers:DatabaseScheduler

Without a broker (the embedded default) jobs run in a thread of the web process.
"""

# Celery task names: stable strings, because periodic tasks and queued messages
# store them.
RUN_TASK = "backend_kit.jobs.run"
SCHEDULE_TASK = "backend_kit.jobs.start_scheduled"
MAIL_TASK = "backend_kit.jobs.send_account_mail"
REDISPATCH_TASK = "backend_kit.jobs.redispatch_stalled"
