from django.apps import AppConfig


class PypiConfig(AppConfig):
    name = "formats.pypi"
    label = "pypi"
    verbose_name = "PyPI format"

    def ready(self):
        from registry import plugins

        from .plugin import plugin

        plugins.register(plugin)
