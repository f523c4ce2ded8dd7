"""Settings, all from the environment (docs/configuration.md lists every variable).

The defaults are the embedded mode: SQLite and blobs under var/, tasks run in-process,
a secret key generated into var/ on first start. Nothing else needs to run.
"""

import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    """The variable's value; `NAME_FILE` (a path) wins, so secrets can come from files."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = env(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false)")


def env_int(name, default):
    value = env(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None


def env_choice(name, default, choices):
    value = env(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


def env_list(name, default=""):
    return [item.strip() for item in (env(name) or default).split(",") if item.strip()]


VAR_DIR = Path(env("VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key():
    key = env("SECRET_KEY")
    if key:
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        # O_EXCL: two workers starting at once must not write two different keys.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS behind the proxy: HSTS on every HTTPS answer, and HTTP sent to HTTPS (except the
# operations endpoints a load balancer polls over plain HTTP).
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^-/"]


def _networks(name):
    entries = env_list(name)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {entry!r} is not an IP address or network") from None
    return entries


# The addresses of the reverse proxies in front (nginx): only from them is X-Forwarded-For
# believed, to find the client's address (registry.http.client_address). Empty: no proxy.
TRUSTED_PROXIES = _networks("TRUSTED_PROXIES")

INSTALLED_APPS = [
    "registry.admin_site.RegistryAdminConfig",  # django.contrib.admin, for sessions only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI's files, served from here: /api/docs/ needs no CDN (and no internet).
    "drf_spectacular_sidecar",
    "registry",
    # One line per format: its AppConfig.ready() registers the plugin.
    "formats.pypi",
    "formats.npm",
    "formats.maven",
    "formats.deb",
    "formats.rpm",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer, static files' included (registry/csp.py).
    "registry.csp.ContentSecurityPolicyMiddleware",
    # First after security: it counts every answer, the other middleware's included.
    "registry.metrics.RequestMetricsMiddleware",
    # The admin's and the API docs' static files, with no web server in front in the embedded mode.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything looks a name up: no stored name holds NUL.
    "registry.unstorable.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "registry.auth.TokenAuthenticationMiddleware",
    # Retry-After on a refused password check, and the login page again when it was a form's.
    "registry.throttle.ThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'registry.sqlite3'}",
        # Reusing a worker's connection saves its setup on every request (a third of a
        # small request's time on SQLite, measured by benchmarks/).
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while an upload commits; the timeout rides out short write locks
    # between gunicorn workers.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _cache(url):
    if not url or url.startswith("locmem://"):
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "registry"}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if url.startswith("file://"):
        return {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": url[7:]}
    if url.startswith("dummy://"):
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise ImproperlyConfigured(f"CACHE_URL={url!r}: use redis://, file://, locmem:// or dummy://")


# Cached pages are keyed by the revision of what they show, so a per-process cache never
# serves a stale page: a write bumps the revision in the database that every worker reads.
CACHES = {"default": {**_cache(env("CACHE_URL")), "KEY_PREFIX": env("CACHE_KEY_PREFIX") or ""}}


def _throttle_cache(url):
    """Counts of failed authentication must be the same for every worker and node, unlike cached
    pages: the shared cache when there is one, otherwise files under VAR_DIR that the embedded
    mode's gunicorn workers all see (local memory would give each worker counts of its own)."""
    if url and not url.startswith(("locmem://", "dummy://")):
        return _cache(url)
    return {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "throttle"), "OPTIONS": {"MAX_ENTRIES": 100000}}


CACHES["throttle"] = {**_throttle_cache(env("CACHE_URL")), "KEY_PREFIX": env("CACHE_KEY_PREFIX") or ""}

# Blob storage: the content-addressed store of every uploaded file.
STORAGE_BACKEND = env_choice("STORAGE_BACKEND", "fs", ("fs", "s3"))
BLOB_ROOT = Path(env("BLOB_ROOT") or VAR_DIR / "blobs")
if STORAGE_BACKEND == "s3":
    _blob_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET") or env("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env("S3_ENDPOINT_URL") or env("AWS_S3_ENDPOINT_URL"),
            "region_name": env("S3_REGION") or env("AWS_S3_REGION_NAME"),
            "access_key": env("AWS_ACCESS_KEY_ID"),
            "secret_key": env("AWS_SECRET_ACCESS_KEY"),
            "location": env("S3_PREFIX", ""),
            "file_overwrite": True,
            "default_acl": None,
            "querystring_expire": env_int("S3_PRESIGN_SECONDS", 300),
            "addressing_style": env("S3_ADDRESSING_STYLE") or None,
            # botocore may pick the deprecated SigV2 for presigned URLs on some endpoints.
            "signature_version": env("S3_SIGNATURE_VERSION") or "s3v4",
        },
    }
    if not _blob_storage["OPTIONS"]["bucket_name"]:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs S3_BUCKET")
else:
    _blob_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(BLOB_ROOT), "file_permissions_mode": 0o644},
    }
STORAGES = {
    "default": _blob_storage,
    "blobs": _blob_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# How downloads leave the server: `direct` (sendfile through the WSGI file wrapper),
# `x-accel` (nginx serves BLOB_ROOT, or proxies a presigned S3 URL, at X_ACCEL_PREFIX),
# `redirect` (S3 presigned URL).
SERVE_MODE = env_choice("SERVE_MODE", "direct", ("direct", "x-accel", "redirect"))
X_ACCEL_PREFIX = env("X_ACCEL_PREFIX") or "/_blobs/"
if SERVE_MODE == "redirect" and STORAGE_BACKEND != "s3":
    raise ImproperlyConfigured("SERVE_MODE=redirect needs STORAGE_BACKEND=s3")

MAX_UPLOAD_SIZE = env_int("MAX_UPLOAD_SIZE", 1024 * 1024 * 1024)
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
# Every upload spools to disk while it is hashed: memory stays flat.
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
FILE_UPLOAD_HANDLERS = ["storage.hashing.HashingUploadHandler"]
FILE_UPLOAD_PERMISSIONS = 0o644
# How far one uploaded archive (wheel, sdist, npm tarball, a .deb's control.tar, an RPM's declared
# payload) may expand; checked while it streams (formats/archives.py, docs/configuration.md).
ARCHIVE_MAX_MEMBERS = env_int("ARCHIVE_MAX_MEMBERS", 100_000)
ARCHIVE_MAX_MEMBER_SIZE = env_int("ARCHIVE_MAX_MEMBER_SIZE", 2 * 1024 ** 3)
ARCHIVE_MAX_SIZE = env_int("ARCHIVE_MAX_SIZE", 4 * 1024 ** 3)
ARCHIVE_MAX_RATIO = env_int("ARCHIVE_MAX_RATIO", 100)
ARCHIVE_RATIO_GRACE = env_int("ARCHIVE_RATIO_GRACE", 32 * 1024 ** 2)
INDEX_CACHE_SECONDS = env_int("INDEX_CACHE_SECONDS", 600)

# Publications (deb, rpm metadata): uploads within PUBLISH_DEBOUNCE_SECONDS make one rebuild; a
# builder holds its repository for at most PUBLISH_LEASE_SECONDS (a dead worker's lease runs out);
# superseded publications stay served PUBLICATION_GRACE_SECONDS for clients mid-update.
PUBLISH_DEBOUNCE_SECONDS = env_int("PUBLISH_DEBOUNCE_SECONDS", 2)
PUBLISH_LEASE_SECONDS = env_int("PUBLISH_LEASE_SECONDS", 600)
PUBLICATION_GRACE_SECONDS = env_int("PUBLICATION_GRACE_SECONDS", 86400)

# Celery: with no broker, tasks run in-process (the embedded mode).
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or ""
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
# The queue web nodes send to and workers read (several registries can share one Redis).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE") or "registry"

# Celery beat (`celery -A registry beat`): the periodic clean-ups.
CELERY_BEAT_SCHEDULE = {
    "remove-expired-publications": {"task": "registry.tasks.remove_expired_publications", "schedule": 3600},
    "remove-expired-tokens": {"task": "registry.tasks.remove_expired_tokens", "schedule": 86400},
    "format-maintenance": {"task": "registry.tasks.format_maintenance", "schedule": 86400},
    "remove-unrequested-proxy-files": {"task": "registry.tasks.remove_unrequested_proxy_files",
                                       "schedule": 86400},
}
# Revoked or expired tokens are deleted this many days later (their audit events stay).
TOKEN_RETENTION_DAYS = env_int("TOKEN_RETENTION_DAYS", 90)

# Download counts are written at most this often per process (seconds), after responses.
DOWNLOAD_COUNT_FLUSH_SECONDS = env_int("DOWNLOAD_COUNT_FLUSH_SECONDS", 10)

# Proxy repositories (docs/proxies.md): after PROXY_FAILURE_THRESHOLD failures in a row an
# upstream is not called for PROXY_RETRY_SECONDS; index documents larger than
# PROXY_MAX_DOCUMENT_SIZE are refused; files up to PROXY_VERIFY_BEFORE_SERVE bytes are verified
# before the first byte is sent (a mismatch answers 502), larger ones stream while they arrive.
PROXY_FAILURE_THRESHOLD = env_int("PROXY_FAILURE_THRESHOLD", 3)
PROXY_RETRY_SECONDS = env_int("PROXY_RETRY_SECONDS", 60)
PROXY_MAX_DOCUMENT_SIZE = env_int("PROXY_MAX_DOCUMENT_SIZE", 128 * 1024 * 1024)
PROXY_VERIFY_BEFORE_SERVE = env_int("PROXY_VERIFY_BEFORE_SERVE", 1024 * 1024)
# A proxy's cached files not downloaded for this many days are removed daily (0: kept for good);
# a removed file is fetched again on its next request.
PROXY_CACHE_DAYS = env_int("PROXY_CACHE_DAYS", 0)

# /-/metrics answers only on the node's loopback address (no proxy in between) unless this is
# set; then it needs `Authorization: Bearer <METRICS_TOKEN>` from anywhere.
METRICS_TOKEN = env("METRICS_TOKEN") or ""

# Failed authentication (a wrong token or password) is counted per client address and per account
# (user name, token prefix) in CACHES["throttle"]; docs/security.md has the rules. An address with
# more than THROTTLE_ADDRESS_FAILURES failures in THROTTLE_WINDOW_SECONDS is answered 429 for
# THROTTLE_WINDOW_SECONDS; past THROTTLE_ACCOUNT_FAILURES failures for one account, each further
# wrong guess at it blocks its address at once. 0 turns a limit off.
THROTTLE_WINDOW_SECONDS = env_int("THROTTLE_WINDOW_SECONDS", 300)
THROTTLE_ADDRESS_FAILURES = env_int("THROTTLE_ADDRESS_FAILURES", 20)
THROTTLE_ACCOUNT_FAILURES = env_int("THROTTLE_ACCOUNT_FAILURES", 10)
if THROTTLE_WINDOW_SECONDS < 1:
    raise ImproperlyConfigured("THROTTLE_WINDOW_SECONDS must be at least 1")
# The throttle's backend comes first: a blocked address gets no password checked at all.
AUTHENTICATION_BACKENDS = [
    "registry.throttle.ThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

# Signing keys (APT, RPM): private keys are sealed in the database with the first of these
# secrets and opened with any of them (add the new one first to rotate). Defaults to SECRET_KEY.
SIGNING_KEY_SECRETS = env_list("SIGNING_KEY_SECRETS") or [SECRET_KEY]
SIGNING_KEY_ALGORITHM = env_choice("SIGNING_KEY_ALGORITHM", "ed25519", ("ed25519", "rsa4096"))
SIGNING_KEY_EMAIL_DOMAIN = env("SIGNING_KEY_EMAIL_DOMAIN") or "registry.invalid"

TOKEN_PREFIX = "reg_"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "registry.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_PAGINATION_CLASS": "registry.api.pagination.Pagination",
    "DEFAULT_PARSER_CLASSES": [
        "registry.api.parsers.JSONParser",
        "registry.api.parsers.FormParser",
        "registry.api.parsers.StrictMultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_SCHEMA_CLASS": "registry.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "registry.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Artifact registry API",
    "DESCRIPTION": "Repositories, packages, versions, files and tokens of the registry.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # A role on a repository and a token's scope are the same three values.
    "ENUM_NAME_OVERRIDES": {"RoleEnum": "registry.models.Role"},
    # Swagger UI from drf-spectacular-sidecar's static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No validator badge: it would load an image from the validator's host.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# The web UI's Content-Security-Policy: nothing from another host, no inline script or style, no
# framing (registry/csp.py gives /repository/ answers a stricter, sandboxing one).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# Filled by collectstatic (make run; the image at build time); whitenoise serves it.
STATIC_ROOT = Path(env("STATIC_ROOT") or VAR_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every handler redacts secrets (tokens in URL paths, credentials in URLs) from what it writes.
    "filters": {"redact": {"()": "registry.redaction.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": (env("LOG_LEVEL") or "INFO").upper()},
    # Django's own handlers for these loggers (console with DEBUG, mail to ADMINS) write unfiltered:
    # their records go to the root's handler instead.
    "loggers": {"django": {"handlers": [], "level": "INFO"}, "django.server": {"handlers": [], "level": "INFO"}},
}
