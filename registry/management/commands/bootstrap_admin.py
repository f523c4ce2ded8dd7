import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Make sure the server has an administrator. With DJANGO_SUPERUSER_USERNAME and "
        "DJANGO_SUPERUSER_PASSWORD set (a deployment's env file), create that superuser unless it "
        "exists. Otherwise, on a server with no superuser yet, create 'admin' with a random "
        "password written to var/admin-password (readable only by its owner). Safe to run at "
        "every start."
    )

    def handle(self, *args, **options):
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "").strip()
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
        if username and password:
            self._from_environment(username, password)
        else:
            self._generated()

    def _from_environment(self, username, password):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"The administrator {username!r} exists.")
            return
        User.objects.create_superuser(username, os.environ.get("DJANGO_SUPERUSER_EMAIL", ""), password)
        self.stdout.write(f"Created the superuser {username!r} from DJANGO_SUPERUSER_USERNAME/PASSWORD.")

    def _generated(self):
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
