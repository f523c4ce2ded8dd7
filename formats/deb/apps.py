from django.apps import AppConfig


class DebConfig(AppConfig):
    name = "formats.deb"
    label = "deb"
    verbose_name = "APT (Debian) format"

    def ready(self):
        from registry import plugins

        from .plugin import plugin

        plugins.register(plugin)
