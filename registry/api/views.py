"""The REST API. Views translate HTTP; rights come from services.access, writes go through the
services (ingest, versions, tokens) and are audited there or here."""

from django.db import transaction
from django.db.models import Prefetch, Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.response import Response

from registry import plugins, uploads
from registry.errors import Forbidden, InvalidPackage
from registry.http import client_address
from registry.models import (
    ApiToken,
    Package,
    PackageFile,
    PackageVersion,
    RepositoryRole,
    Role,
)
from registry.proxy import documents as proxy_documents
from registry.services import access, audit, publications, repositories, signing_keys, tokens, versions

from . import serializers
from .negotiation import FormatIsAFilter
from .parsers import FormParser, JSONParser, StrictMultiPartParser


def actor_of(request):
    token = request.auth if isinstance(request.auth, ApiToken) else None
    return access.Actor(user=request.user, token=token, remote_addr=client_address(request))


def require_login(request):
    if not request.user or not request.user.is_authenticated:
        raise NotAuthenticated()


def repository_param(request, queryset, field="repository"):
    """Narrow `queryset` to ?repository=<name> when given (already limited to readable ones)."""
    name = request.query_params.get("repository")
    return queryset.filter(**{f"{field}__name": name}) if name else queryset


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("format", str, description="Only repositories of this package format."),
]))
class RepositoryViewSet(viewsets.ModelViewSet):
    """Repositories you may read; create needs the `registry.add_repository` permission."""

    content_negotiation_class = FormatIsAFilter
    serializer_class = serializers.RepositorySerializer
    lookup_field = "name"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        queryset = access.readable_repositories(actor_of(self.request))
        if fmt := self.request.query_params.get("format"):
            queryset = queryset.filter(format=fmt)
        return queryset.order_by("name")

    def get_object(self):
        actor = actor_of(self.request)
        role = Role.READ if self.request.method in ("GET", "HEAD", "OPTIONS") else Role.ADMIN
        return access.get_repository(actor, self.kwargs["name"], role)

    def perform_create(self, serializer):
        require_login(self.request)
        actor = actor_of(self.request)
        if not self.request.user.has_perm("registry.add_repository"):
            raise Forbidden("You may not create repositories (registry.add_repository is needed)")
        if actor.token is not None and actor.token.scope != Role.ADMIN:
            raise Forbidden("Creating a repository needs a token with the admin scope")
        if actor.token is not None and access.restricted_to(actor.token):
            # A new repository lies outside any limit: creating one would be a write beyond it.
            raise Forbidden("A token limited to repositories cannot create repositories")
        given_key = serializer.validated_data.pop("signing_key", None)
        plugin = plugins.get(serializer.validated_data["format"])
        if given_key and not plugin.publishes:
            raise InvalidPackage(f"{plugin.label} repositories are not signed: no signing_key.")
        # Read before anything is written: a bad key refuses the whole creation.
        imported = signing_keys.import_key(given_key) if given_key else None
        with transaction.atomic():
            repository = serializer.save()
            # Whoever creates a repository administers it.
            RepositoryRole.objects.create(repository=repository, user=self.request.user, role=Role.ADMIN)
            audit.record(
                actor, "repository.create", repository=repository, format=repository.format,
                kind=repository.kind, visibility=repository.visibility,
            )
            if plugin.publishes and repository.kind != repository.Kind.PROXY:
                # Signed from the start: clients can add the source before the first upload.
                # (A proxy passes its upstream's signed metadata through: no key of its own.)
                if imported is not None:
                    signing_keys.make_primary(actor, repository, imported)
                else:
                    signing_keys.ensure_key(actor, repository)
                publications.request_publish(repository)

    def perform_update(self, serializer):
        changes = dict(serializer.validated_data)
        if changes.pop("signing_key", None):
            raise InvalidPackage("A repository's key changes through its signing-keys/ endpoint.")
        repositories.update(actor_of(self.request), serializer.instance, changes)

    def perform_destroy(self, repository):
        actor = actor_of(self.request)
        with transaction.atomic():
            sha256s = set(repository.files.values_list("blob_id", flat=True)) | set(
                repository.files.exclude(metadata_blob=None).values_list("metadata_blob_id", flat=True)
            )
            audit.record(actor, "repository.delete", repository=repository, format=repository.format)
            repository.delete()
            transaction.on_commit(lambda: versions.collect_blobs(sha256s))

    @extend_schema(request={"multipart/form-data": serializers.UploadSerializer},
                   responses={201: serializers.FileSerializer, 200: serializers.FileSerializer})
    @action(detail=True, methods=["post"], parser_classes=[StrictMultiPartParser])
    def upload(self, request, name=None):
        """Upload one package file (multipart field `file`), read by the format's own ingest.
        Other form fields are passed to the format. An identical re-upload answers 200."""
        actor = actor_of(request)
        repository = access.get_repository(actor, name, Role.WRITE)
        fields = {key: request.data.get(key) for key in request.data if key != "file"}
        package_file, created = uploads.ingest_form(repository, actor, request.FILES, fields)
        serializer = serializers.FileSerializer(package_file, context={"request": request})
        return Response(serializer.data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(methods=["GET"], responses={200: serializers.RoleSerializer(many=True)})
    @extend_schema(methods=["POST"], request=serializers.RoleSerializer,
                   responses={201: serializers.RoleSerializer})
    @action(detail=True, methods=["get", "post"], parser_classes=[JSONParser, FormParser],
            pagination_class=None)
    def roles(self, request, name=None):
        """Who holds which role on the repository (admin). POST grants or changes a role."""
        actor = actor_of(request)
        repository = access.get_repository(actor, name, Role.ADMIN)
        if request.method == "POST":
            serializer = serializers.RoleSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            role = repositories.grant(
                actor, repository, data["role"],
                username=data["user"].username if data.get("user") else None,
                group_name=data["group"].name if data.get("group") else None,
            )
            return Response(serializers.RoleSerializer(role).data, status=status.HTTP_201_CREATED)
        roles = repository.roles.select_related("user", "group").order_by("id")
        return Response(serializers.RoleSerializer(roles, many=True).data)

    @extend_schema(methods=["GET"], responses={200: serializers.RepositoryKeySerializer(many=True)})
    @extend_schema(methods=["POST"], request=serializers.NewSigningKeySerializer,
                   responses={201: serializers.RepositoryKeySerializer(many=True)})
    @action(detail=True, methods=["get", "post"], url_path="signing-keys",
            parser_classes=[JSONParser, FormParser], pagination_class=None)
    def signing_keys(self, request, name=None):
        """The keys that sign the repository's metadata (deb, rpm). POST (admin) generates or
        imports a new primary key; the current one keeps signing for `transition_days`."""
        actor = actor_of(request)
        repository = access.get_repository(actor, name, Role.ADMIN if request.method == "POST" else Role.READ)
        if not plugins.get(repository.format).publishes:
            raise InvalidPackage(f"{plugins.get(repository.format).label} repositories are not signed.")
        if request.method == "POST":
            serializer = serializers.NewSigningKeySerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            if data.get("private_key"):
                key = signing_keys.import_key(data["private_key"])
            else:
                key = signing_keys.generate_key(repository, data.get("algorithm"))
            with transaction.atomic():
                signing_keys.make_primary(actor, repository, key, data["transition_days"])
                publications.request_publish(repository)
        uses = repository.keys.select_related("key").order_by("-added")
        body = serializers.RepositoryKeySerializer(uses, many=True).data
        return Response(body, status=status.HTTP_201_CREATED if request.method == "POST" else status.HTTP_200_OK)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"roles/(?P<role_id>\d+)")
    def revoke_role(self, request, name=None, role_id=None):
        """Take back a role (admin)."""
        actor = actor_of(request)
        repository = access.get_repository(actor, name, Role.ADMIN)
        if not repositories.revoke(actor, repository, role_id):
            return Response({"detail": "No such role."}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)


    @extend_schema(request=serializers.InvalidateSerializer, responses={200: serializers.InvalidateSerializer})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def invalidate(self, request, name=None, **_kwargs):
        """Proxies (admin): forget the cached index documents of one `package`, or of all, so
        that the next request asks the upstream. Cached files stay."""
        actor = actor_of(request)
        repository = access.get_repository(actor, name, Role.ADMIN)
        serializer = serializers.InvalidateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        package = serializer.validated_data.get("package") or None
        dropped = proxy_documents.invalidate(actor, repository, package)
        return Response({"package": package or "", "documents": dropped})


SEARCH = OpenApiParameter("search", str, description="Part of the package name.")
REPOSITORY = OpenApiParameter("repository", str, description="Repository name.")


@extend_schema(parameters=[REPOSITORY, SEARCH])
class PackageViewSet(viewsets.ReadOnlyModelViewSet):
    """Packages in the repositories you may read."""

    serializer_class = serializers.PackageSerializer

    def get_queryset(self):
        readable = access.readable_repositories(actor_of(self.request))
        queryset = Package.objects.filter(repository__in=readable).select_related("repository")
        queryset = repository_param(self.request, queryset)
        if search := self.request.query_params.get("search"):
            queryset = queryset.filter(Q(name__icontains=search) | Q(normalized_name__icontains=search))
        if name := self.request.query_params.get("name"):
            queryset = queryset.filter(name=name)
        return queryset.prefetch_related(
            Prefetch("versions", queryset=PackageVersion.objects.only("id", "package_id", "version", "sort_key"),
                     to_attr="prefetched_versions")
        ).order_by("repository__name", "normalized_name")


@extend_schema(parameters=[
    REPOSITORY,
    OpenApiParameter("package", str, description="Package name."),
    OpenApiParameter("version", str, description="Version string."),
    OpenApiParameter("yanked", bool),
])
class VersionViewSet(mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Versions; DELETE removes a version and its files (admin on the repository, audited)."""

    serializer_class = serializers.VersionSerializer

    def get_queryset(self):
        readable = access.readable_repositories(actor_of(self.request))
        queryset = PackageVersion.objects.filter(package__repository__in=readable).select_related(
            "package__repository", "uploader"
        )
        queryset = repository_param(self.request, queryset, "package__repository")
        params = self.request.query_params
        if package := params.get("package"):
            queryset = queryset.filter(Q(package__name=package) | Q(package__normalized_name=package))
        if version := params.get("version"):
            queryset = queryset.filter(version=version)
        if (yanked := params.get("yanked")) is not None:
            queryset = queryset.filter(yanked=yanked.lower() in ("1", "true", "yes"))
        return queryset.order_by("package__repository__name", "package__normalized_name", "sort_key")

    def _version_as(self, role):
        version = self.get_object()
        access.require(actor_of(self.request), version.package.repository, role)
        return version

    def perform_destroy(self, instance):
        access.require(actor_of(self.request), instance.package.repository, Role.ADMIN)
        versions.delete_version(actor_of(self.request), instance)

    @extend_schema(request=serializers.YankSerializer, responses=serializers.VersionSerializer)
    @action(detail=True, methods=["post"])
    def yank(self, request, pk=None):
        """PEP 592: installers skip a yanked version unless it is pinned exactly."""
        version = self._version_as(Role.ADMIN)
        self._check_yankable(version)
        serializer = serializers.YankSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        versions.set_yanked(actor_of(request), version, True, serializer.validated_data["reason"])
        return Response(serializers.VersionSerializer(version).data)

    @extend_schema(request=None, responses=serializers.VersionSerializer)
    @action(detail=True, methods=["post"])
    def unyank(self, request, pk=None):
        version = self._version_as(Role.ADMIN)
        self._check_yankable(version)
        versions.set_yanked(actor_of(request), version, False)
        return Response(serializers.VersionSerializer(version).data)

    def _check_yankable(self, version):
        if not plugins.get(version.package.repository.format).can_yank():
            raise ValidationError({"detail": "Versions of this format cannot be yanked."})


@extend_schema(parameters=[
    REPOSITORY,
    OpenApiParameter("package", str),
    OpenApiParameter("version", str),
    OpenApiParameter("filename", str),
    OpenApiParameter("sha256", str),
])
class FileViewSet(viewsets.ReadOnlyModelViewSet):
    """Files in the repositories you may read, with their hashes and download URLs."""

    serializer_class = serializers.FileSerializer

    def get_queryset(self):
        readable = access.readable_repositories(actor_of(self.request))
        queryset = PackageFile.objects.filter(repository__in=readable).select_related(
            "repository", "version__package", "blob"
        )
        queryset = repository_param(self.request, queryset)
        params = self.request.query_params
        if package := params.get("package"):
            queryset = queryset.filter(
                Q(version__package__name=package) | Q(version__package__normalized_name=package)
            )
        if version := params.get("version"):
            queryset = queryset.filter(version__version=version)
        if filename := params.get("filename"):
            queryset = queryset.filter(filename=filename)
        if sha256 := params.get("sha256"):
            queryset = queryset.filter(blob_id=sha256.lower())
        return queryset.order_by("repository__name", "path")


class TokenViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Your own API tokens. The secret is in the answer to POST, and nowhere ever again.
    DELETE revokes."""

    lookup_value_regex = r"\d+"  # the schema's type for {id}: get_queryset needs a user

    def get_serializer_class(self):
        return serializers.NewTokenSerializer if self.action == "create" else serializers.TokenSerializer

    def get_queryset(self):
        require_login(self.request)
        return tokens.manageable(actor_of(self.request)).prefetch_related("repositories").order_by("-created")

    def create(self, request, *args, **kwargs):
        require_login(request)
        actor = actor_of(request)
        tokens.require_manager(actor)
        serializer = self.get_serializer(data=request.data)
        # A repository the caller may not read is refused in the same words as a missing one.
        serializer.fields["repositories"].child_relation.queryset = access.readable_repositories(actor)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, secret = tokens.issue(
            actor, data["name"], scope=data.get("scope", Role.READ),
            repositories=data.get("repositories", []), expires_days=data.get("expires_days"),
        )
        body = serializers.NewTokenSerializer(token).data
        body["token"] = secret
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, token):
        tokens.withdraw(actor_of(self.request), token)


@extend_schema(parameters=[REPOSITORY, OpenApiParameter("action", str)])
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Audit events of the repositories you administer, your own in those you may read, and
    those of your tokens (everything, for superusers); a token's scope and repository limit
    narrow this like every other right."""

    serializer_class = serializers.AuditEventSerializer
    lookup_value_regex = r"\d+"  # the schema's type for {id}: get_queryset needs a user

    def get_queryset(self):
        require_login(self.request)
        queryset = audit.visible_to(actor_of(self.request))
        if name := self.request.query_params.get("repository"):
            queryset = queryset.filter(repository_name=name)
        if action_name := self.request.query_params.get("action"):
            queryset = queryset.filter(action=action_name)
        return queryset.order_by("-created", "-id")

