from django.core.management.base import BaseCommand, CommandError

from registry import probes


class Command(BaseCommand):
    help = (
        "Check a deployment end to end from this node: database reachable and migrated, broker "
        "reachable, blob store writable, cache working, signing working (gpg, and every stored "
        "key opens with SIGNING_KEY_SECRETS), clock within 30 s of the database's. Exits 1 if "
        "anything fails."
    )

    def handle(self, *args, **options):
        failed = []
        for name, probe in probes.DEPLOYMENT:
            check = probes.run(name, probe)
            style = self.style.SUCCESS if check.ok else self.style.ERROR
            self.stdout.write(style(f"{'ok' if check.ok else 'FAILED':6}") + f" {name:10} {check.detail}")
            if not check.ok:
                failed.append(name)
        if failed:
            raise CommandError(f"the deployment is not ready: {', '.join(failed)}")
        self.stdout.write("The deployment is ready.")
