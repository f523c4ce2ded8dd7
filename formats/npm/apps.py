from django.apps import AppConfig


class NpmConfig(AppConfig):
    name = "formats.npm"
    label = "npm"
    verbose_name = "npm format"

    def ready(self):
        from registry import plugins

        from .plugin import plugin

        plugins.register(plugin)
