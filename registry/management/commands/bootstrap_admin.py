import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "On a server with no superuser yet, create 'admin' with a random password, written to "
        "var/admin-password (readable only by its owner). Does nothing once any superuser exists."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        password_file = settings.VAR_DIR / "admin-password"
        if User.objects.filter(is_superuser=True).exists():
            if password_file.exists():
                self.stdout.write(f"Log in as admin with the password in {password_file}")
            return
        password = secrets.token_urlsafe(18)
        User.objects.create_superuser("admin", "", password)
        password_file.touch(mode=0o600)
        password_file.write_text(password + "\n")
        self.stdout.write(
            f"Created the superuser 'admin'; its password is in {password_file}. "
            "Change it after logging in."
        )
