import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
django_application = get_wsgi_application()

from registry.chunked_body import ChunkedBodies  # noqa: E402  (needs the settings configured)

application = ChunkedBodies(django_application)
