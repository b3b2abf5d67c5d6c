from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "tests.projects.custom_user.people"
    label = "people"
    default_auto_field = "django.db.models.BigAutoField"
