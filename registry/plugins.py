"""The format plugin registry: the one way the core reaches a format.

Each format app registers one FormatPlugin subclass instance in its AppConfig.ready(). The core
never branches on a format's name; when a format needs something of the core, add a hook here.
"""

from dataclasses import dataclass, field
from importlib import import_module

from django.apps import AppConfig


@dataclass(frozen=True)
class UploadedFile:
    """A file a client sent, already spooled to disk and hashed (storage.hashing.SpooledFile)."""

    filename: str
    spooled: object
    # Form fields that came with the file (strings), e.g. twine's metadata and digests.
    fields: dict


README_FORMATS = ("markdown", "text")


@dataclass(frozen=True)
class VersionDetails:
    """What a package page shows of one version, read from what its format recorded at upload."""

    summary: str = ""
    readme: str = ""
    # How the UI shows `readme`: "markdown" is rendered, then sanitised; "text" is preformatted.
    readme_format: str = "text"
    # [(kind, spec)] in the format's own words, e.g. ("requires", "requests>=2") or
    # ("Depends", "libc6 (>= 2.36)").
    dependencies: list = field(default_factory=list)

    def __post_init__(self):
        if self.readme_format not in README_FORMATS:
            raise ValueError(
                f"readme_format must be one of {README_FORMATS}, not {self.readme_format!r}")


SETTING_KINDS = ("text", "int", "bool", "list", "choice")


@dataclass(frozen=True)
class SettingField:
    """One of a format's repository settings, as a form shows it; `clean_settings` still
    decides what is valid."""

    name: str
    label: str
    kind: str = "text"  # one of SETTING_KINDS; "list" is a list of words
    choices: tuple = ()
    help: str = ""

    def __post_init__(self):
        if self.kind not in SETTING_KINDS:
            raise ValueError(f"kind must be one of {SETTING_KINDS}, not {self.kind!r}")


def first_line(text):
    """The first non-blank line of `text`, stripped: a summary is one line."""
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


class FormatPlugin:
    #: the value of Repository.format, e.g. "pypi"
    name = ""
    #: shown to people, e.g. "PyPI"
    label = ""
    #: whether the format serves signed metadata built as publications (deb, rpm): such a
    #: repository gets a signing key on creation and is republished after every change
    publishes = False
    #: the repository settings of the format (clean_settings' keys), for forms
    settings_fields = ()
    #: the form fields an upload may come with besides the file (UploadedFile.fields), for forms
    upload_fields = ()
    #: the template (under templates/) with client set-up for a repository of this format;
    #: rendered with `repository` and `base_url` in its context
    setup_template = ""

    def normalize_name(self, name):
        """The package name as this format compares names (unique per repository)."""
        return name

    def version_sort_key(self, version):
        """A string that sorts versions in this format's order when compared as text."""
        return version

    def urlpatterns(self):
        """Django URL patterns relative to `/repository/<name>/`.

        Each view is called as view(request, repository, **kwargs); the core has already
        checked that the caller may read the repository.
        """
        return []

    def proxy_urlpatterns(self):
        """The URL patterns of a proxy repository of this format (relative to
        `/repository/<name>/`, called as urlpatterns' views are), built on registry.proxy
        (documents for index files, fetches for immutable files); None while the format
        cannot proxy, and creating a proxy repository of it is refused."""
        return None

    def can_proxy(self):
        return self.proxy_urlpatterns() is not None

    def proxy_document_keys(self, name):
        """The keys under which a proxy of this format caches package `name`'s index documents
        (registry.proxy.documents), so that an admin can invalidate one package."""
        return []

    def ingest(self, repository, actor, upload):
        """Parse, validate and store an UploadedFile sent through the REST API.

        Returns (PackageFile, created): created is False for an identical re-upload, which
        answers with the file already there.
        Raises registry.errors.RegistryError subclasses for bad input.
        """
        raise NotImplementedError

    def error_response(self, request, exc):
        """The HttpResponse a client of this format shows for a RegistryError `exc`
        (the message where the client prints it: body, reason phrase, JSON field…)."""
        from registry.http import text_error

        return text_error(exc)

    def clean_settings(self, settings):
        """The repository's format settings, checked and completed with defaults; raise
        ValueError with a message for a bad value. Formats without settings accept none."""
        if settings:
            raise ValueError(f"{self.label} repositories have no settings")
        return {}

    def build_publication(self, repository):
        """For formats with published metadata (deb, rpm): every file of a complete publication
        as {path: bytes}, built from rows (not package files) and signed. Others publish nothing."""
        raise NotImplementedError(f"{self.label} repositories have no publications")

    def can_yank(self):
        """Whether versions of this format can be yanked (PEP 592)."""
        return False

    def maintain(self):
        """Periodic upkeep of this format's repositories (run daily by Celery beat); returns
        what it did, for the task's log."""
        return None

    def can_deprecate(self):
        """Whether versions of this format carry a deprecation message clients show (npm)."""
        return False

    def install_command(self, base_url, package, version):
        """The exact command (or snippet, e.g. Maven's <dependency>) that installs PackageVersion
        `version` of Package `package` from the repository at `base_url` (absolute, ending in
        "/"); "" when the format has none."""
        return ""

    def version_details(self, version):
        """The VersionDetails of a PackageVersion, from the rows written at upload
        (version.metadata, version.package.metadata, its files' metadata), never from the
        package files themselves."""
        metadata = version.metadata or {}
        return VersionDetails(summary=first_line(metadata.get("summary", "")),
                              readme=metadata.get("description", "") or "")

    def file_url(self, request, repository, package_file):
        """The absolute URL a client downloads `package_file` at."""
        return request.build_absolute_uri(f"/repository/{repository.name}/{package_file.path}")


class FormatAppConfig(AppConfig):
    """The AppConfig of a format package: registers the `plugin` of its `plugin` module.
    Subclass it as `plugins.FormatAppConfig` (Django takes an apps.py with two AppConfig
    classes in its namespace for one without a default)."""

    def ready(self):
        register(import_module(f"{self.name}.plugin").plugin)


def checks_access_itself(view):
    """Mark a format view that the core must call without checking read access first: it
    decides itself (npm's login, which exchanges a password for a token). For a caller who may
    not read the repository, the core passes on only the view's success (2xx); any other answer
    becomes the one for a missing repository, so the view cannot reveal a private repository
    by how it refuses. A success for such a caller must still be earned by the view's own check."""
    view.checks_access_itself = True
    return view


_plugins = {}


def register(plugin):
    if not plugin.name:
        raise ValueError(f"{plugin!r} has no name")
    if plugin.name in _plugins and type(_plugins[plugin.name]) is not type(plugin):
        raise ValueError(f"format {plugin.name!r} is registered twice")
    _plugins[plugin.name] = plugin


def get(name):
    """The plugin for a format name; KeyError when none is installed."""
    return _plugins[name]


def all_plugins():
    return dict(_plugins)


def format_choices():
    return sorted(_plugins)
