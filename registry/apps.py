from django.apps import AppConfig
from django.core.signals import request_finished


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"

    def ready(self):
        from registry.services import downloads

        # After the response has gone: download counts are written then, not while a client waits.
        request_finished.connect(downloads.flush_if_due, dispatch_uid="registry.downloads.flush")
