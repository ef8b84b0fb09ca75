from django.apps import AppConfig


class PmValueConfig(AppConfig):
    """The project package as an app: it holds the project-wide management commands."""

    name = "pm_value"
    verbose_name = "PM Value"
