from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry import plugins
from registry.errors import RegistryError
from registry.models import (
    ApiToken,
    AuditEvent,
    Package,
    PackageFile,
    PackageVersion,
    Repository,
    RepositoryRole,
    Role,
)
from registry.proxy import configuration


# null for repositories that are not proxies. Written: url, username, password | token, the
# limits, offline; read: those without the secret, plus credentials and health.
@extend_schema_field({"type": "object", "nullable": True, "additionalProperties": {}})
class UpstreamField(serializers.Field):
    """A proxy's upstream: settings and health shown (never the secret); settings written
    through registry.proxy.configuration."""

    def __init__(self, **kwargs):
        super().__init__(source="*", required=False, **kwargs)

    def to_representation(self, repository):
        return configuration.describe(repository)

    def to_internal_value(self, data):
        try:
            return {"upstream": configuration.clean(data, creating=self.parent.instance is None)}
        except RegistryError as exc:
            raise serializers.ValidationError(exc.message) from None


class RepositorySerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Where clients point at this repository.")
    upstream = UpstreamField(
        help_text='Proxies: {"url", "username", "password" | "token", "metadata_max_age", '
                  '"negative_max_age", "connect_timeout", "read_timeout", "offline"}; shown with '
                  'the upstream\'s "health", never with the secret.')
    format = serializers.ChoiceField(choices=[])
    # Read only (no kind takes it as input), and "" for most: a plain string in the schema.
    upstream_url = serializers.CharField(read_only=True)
    # An object or nothing: the formats' checks read it as one.
    settings = serializers.DictField(
        required=False, help_text="Format settings (deb: distributions, architectures…; maven: "
                                  "version_policy, snapshot_keep; rpm: sign_packages).")
    signing_key = serializers.CharField(
        write_only=True, required=False,
        help_text="deb and rpm: an armored private key (no passphrase) to sign with, instead of "
                  "a generated one. Only at creation; rotate through signing-keys/ later.")

    class Meta:
        model = Repository
        fields = [
            "name", "format", "kind", "visibility", "description", "settings", "upstream_url",
            "upstream", "url", "signing_key", "created", "updated",
        ]
        read_only_fields = ["created", "updated", "upstream_url"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = plugins.format_choices()
        if self.instance is not None and not isinstance(self.instance, list):
            # Name and format are fixed once clients point at the repository.
            self.fields["name"].read_only = True
            self.fields["format"].read_only = True

    def get_url(self, repository) -> str:
        request = self.context.get("request")
        path = f"/repository/{repository.name}/"
        return request.build_absolute_uri(path) if request else path

    def validate(self, data):
        data = super().validate(data)
        self._check_upstream(data)
        fmt = data.get("format") or (self.instance.format if self.instance else None)
        if fmt is not None and ("settings" in data or self.instance is None):
            try:
                data["settings"] = plugins.get(fmt).clean_settings(data.get("settings") or {})
            except ValueError as exc:
                raise serializers.ValidationError({"settings": [str(exc)]}) from None
        return data

    def validate_kind(self, kind):
        if self.instance is not None and not isinstance(self.instance, list) and kind != self.instance.kind:
            raise serializers.ValidationError("A repository's kind cannot change; create another.")
        if kind == Repository.Kind.GROUP:
            raise serializers.ValidationError(
                "Repositories of kind 'group' are not available on this server yet; "
                "create a hosted or proxy repository."
            )
        return kind

    def _check_upstream(self, data):
        creating = self.instance is None
        kind = data.get("kind", Repository.Kind.HOSTED) if creating else self.instance.kind
        fmt = data.get("format") if creating else self.instance.format
        if kind != Repository.Kind.PROXY:
            if "upstream" in data:
                raise serializers.ValidationError(
                    {"upstream": ["Only proxy repositories have an upstream."]})
            return
        if fmt is not None and not plugins.get(fmt).can_proxy():
            raise serializers.ValidationError({"kind": [
                f"Proxy repositories of format {plugins.get(fmt).label} are not available on "
                "this server yet."]})
        if creating and "upstream" not in data:
            raise serializers.ValidationError(
                {"upstream": ['A proxy needs "upstream": {"url": <the upstream index URL>}.']})

    def create(self, validated_data):
        upstream = validated_data.pop("upstream", None)
        repository = super().create(validated_data)
        if upstream is not None:
            configuration.apply(repository, upstream)
        return repository


class InvalidateSerializer(serializers.Serializer):
    package = serializers.CharField(required=False, allow_blank=True, max_length=255,
                                    help_text="One package's documents; all when not given.")
    documents = serializers.IntegerField(read_only=True, help_text="How many were dropped.")


class PackageSerializer(serializers.ModelSerializer):
    repository = serializers.SlugRelatedField(slug_field="name", read_only=True)
    latest_version = serializers.SerializerMethodField()

    class Meta:
        model = Package
        fields = ["id", "repository", "name", "normalized_name", "latest_version", "created", "updated"]

    def get_latest_version(self, package) -> str | None:
        versions = getattr(package, "prefetched_versions", None)
        if versions is None:
            versions = list(package.versions.all())
        if not versions:
            return None
        return max(versions, key=lambda v: v.sort_key).version


class VersionSerializer(serializers.ModelSerializer):
    package = serializers.CharField(source="package.name", read_only=True)
    package_id = serializers.IntegerField(read_only=True)
    repository = serializers.CharField(source="package.repository.name", read_only=True)
    uploader = serializers.CharField(source="uploader.username", read_only=True, default=None)

    class Meta:
        model = PackageVersion
        fields = [
            "id", "repository", "package", "package_id", "version", "metadata", "uploader",
            "created", "yanked", "yank_reason", "deprecated",
        ]


class YankSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class FileSerializer(serializers.ModelSerializer):
    repository = serializers.CharField(source="repository.name", read_only=True)
    package = serializers.CharField(source="version.package.name", read_only=True)
    version = serializers.CharField(source="version.version", read_only=True)
    size = serializers.IntegerField(source="blob.size", read_only=True)
    hashes = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = PackageFile
        fields = [
            "id", "repository", "package", "version", "filename", "path", "size", "hashes",
            "metadata", "download_url", "created",
        ]

    def get_hashes(self, package_file) -> dict:
        blob = package_file.blob
        return {"md5": blob.md5, "sha1": blob.sha1, "sha256": blob.sha256, "sha512": blob.sha512}

    def get_download_url(self, package_file) -> str:
        request = self.context["request"]
        plugin = plugins.get(package_file.repository.format)
        return plugin.file_url(request, package_file.repository, package_file)


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The package file, under its real file name.")


class RoleSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), required=False,
        allow_null=True,
    )
    group = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = RepositoryRole
        fields = ["id", "user", "group", "role"]

    def validate(self, data):
        if bool(data.get("user")) == bool(data.get("group")):
            raise serializers.ValidationError("Give either a user or a group.")
        return data


class TokenSerializer(serializers.ModelSerializer):
    repositories = serializers.SlugRelatedField(
        slug_field="name", many=True, queryset=Repository.objects.all(), required=False
    )
    expires_days = serializers.IntegerField(
        write_only=True, required=False, min_value=1, max_value=3650,
        help_text="Expire after this many days (default: never).",
    )

    class Meta:
        model = ApiToken
        fields = [
            "id", "name", "prefix", "scope", "repositories", "expires", "expires_days",
            "last_used", "revoked", "created",
        ]
        read_only_fields = ["prefix", "expires", "last_used", "revoked", "created"]


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret, shown only this once.")

    class Meta(TokenSerializer.Meta):
        fields = TokenSerializer.Meta.fields + ["token"]


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id", "created", "username", "token_prefix", "action", "repository_name",
            "package_name", "version", "detail", "remote_addr",
        ]


ROLE_CHOICES = Role.values


class RepositoryKeySerializer(serializers.Serializer):
    fingerprint = serializers.CharField(source="key.fingerprint")
    uid = serializers.CharField(source="key.uid")
    algorithm = serializers.CharField(source="key.algorithm")
    state = serializers.CharField(source="current_state")
    retire_after = serializers.DateTimeField(allow_null=True)
    added = serializers.DateTimeField()
    public_key = serializers.CharField(source="key.public_armored")


class NewSigningKeySerializer(serializers.Serializer):
    algorithm = serializers.ChoiceField(choices=["ed25519", "rsa4096"], required=False,
                                        help_text="Generate a key of this kind (default: the server's).")
    private_key = serializers.CharField(required=False, write_only=True,
                                        help_text="Or import this armored private key (no passphrase).")
    transition_days = serializers.IntegerField(
        min_value=0, max_value=365, default=0,
        help_text="Days the current key keeps signing beside the new one (0: retired at once).")

    def validate(self, data):
        if data.get("algorithm") and data.get("private_key"):
            raise serializers.ValidationError("Give either an algorithm to generate or a private_key to import.")
        return data
