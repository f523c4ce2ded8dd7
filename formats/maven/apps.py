from django.apps import AppConfig


class MavenConfig(AppConfig):
    name = "formats.maven"
    label = "maven"
    verbose_name = "Maven format"

    def ready(self):
        from registry import plugins

        from .plugin import plugin

        plugins.register(plugin)
