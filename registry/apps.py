from django.apps import AppConfig
from django.core.signals import request_finished


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"

    def ready(self):
        from django.contrib.auth.signals import user_login_failed
        from django.db.models.signals import pre_delete

        from registry import throttle
        from registry.models import Repository
        from registry.services import downloads, tokens

        # However a repository goes, no token is left with an empty limit (which means none).
        pre_delete.connect(tokens.repository_deleting, sender=Repository,
                           dispatch_uid="registry.tokens.repository_deleting")
        # After the response has gone: download counts are written then, not while a client waits.
        request_finished.connect(downloads.flush_if_due, dispatch_uid="registry.downloads.flush")
        # Every password check that fails, whichever view made it, counts towards the throttle.
        user_login_failed.connect(throttle.password_failed, dispatch_uid="registry.throttle.password_failed")
