from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.models import Repository, Role
from registry.services import audit, tokens
from registry.services.access import Actor


class Command(BaseCommand):
    help = "Create an API token for USER; prints the secret as the last line of stdout."

    def add_arguments(self, parser):
        parser.add_argument("user")
        parser.add_argument("--name", required=True)
        parser.add_argument("--scope", choices=Role.values, default=Role.READ)
        parser.add_argument(
            "--repository", action="append", default=[], dest="repositories",
            help="restrict the token to this repository (repeat for several)",
        )
        parser.add_argument("--expires", type=int, metavar="DAYS", help="expire after DAYS days")

    def handle(self, *args, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: options["user"]})
        except User.DoesNotExist:
            raise CommandError(f"No user {options['user']!r}") from None
        repositories = []
        for name in options["repositories"]:
            repository = Repository.objects.filter(name=name).first()
            if repository is None:
                raise CommandError(f"No repository {name!r}")
            repositories.append(repository)
        if options["expires"] is not None and options["expires"] <= 0:
            raise CommandError("--expires takes a positive number of days")
        token, secret = tokens.create_token(
            user,
            options["name"],
            scope=options["scope"],
            repositories=repositories,
            expires_days=options["expires"],
        )
        audit.record(
            Actor(user=user, token=token), "token.create", name=token.name, prefix=token.prefix,
            scope=token.scope, via="create_token",
        )
        self.stderr.write(
            f"Created token {token.name!r} ({token.prefix}…, scope {token.scope}) for "
            f"{user.get_username()}. It is shown only once:"
        )
        self.stdout.write(secret)
