from django.contrib import admin

from registry.models import (
    ApiToken,
    AuditEvent,
    Blob,
    FileTombstone,
    GroupMember,
    Package,
    PackageFile,
    PackageVersion,
    Repository,
    RepositoryKey,
    RepositoryRole,
    SigningKey,
)


class RoleInline(admin.TabularInline):
    model = RepositoryRole
    extra = 0
    autocomplete_fields = ["user"]


class GroupMemberInline(admin.TabularInline):
    model = GroupMember
    fk_name = "group"
    extra = 0


class RepositoryKeyInline(admin.TabularInline):
    model = RepositoryKey
    extra = 0
    fields = ["key", "state", "retire_after", "added"]
    readonly_fields = ["key", "state", "retire_after", "added"]
    can_delete = False


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = ["name", "format", "kind", "visibility", "updated"]
    list_filter = ["format", "kind", "visibility"]
    search_fields = ["name", "description"]
    readonly_fields = ["revision", "created", "updated"]
    inlines = [RoleInline, GroupMemberInline, RepositoryKeyInline]


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    """Public parts only: the sealed private key is never shown or edited here."""

    list_display = ["uid", "fingerprint", "algorithm", "created"]
    search_fields = ["uid", "fingerprint"]
    fields = ["fingerprint", "uid", "algorithm", "public_armored", "created"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    list_display = ["name", "repository", "updated"]
    list_filter = ["repository"]
    search_fields = ["name", "normalized_name"]
    readonly_fields = ["revision", "created", "updated"]


@admin.register(PackageVersion)
class PackageVersionAdmin(admin.ModelAdmin):
    list_display = ["package", "version", "yanked", "uploader", "created"]
    list_filter = ["yanked", "package__repository"]
    search_fields = ["package__name", "version"]
    raw_id_fields = ["package", "uploader"]


@admin.register(PackageFile)
class PackageFileAdmin(admin.ModelAdmin):
    list_display = ["path", "repository", "blob", "created"]
    list_filter = ["repository"]
    search_fields = ["path", "filename", "blob__sha256"]
    raw_id_fields = ["version", "blob", "metadata_blob", "uploader"]


@admin.register(Blob)
class BlobAdmin(admin.ModelAdmin):
    list_display = ["sha256", "size", "created"]
    search_fields = ["sha256", "md5", "sha1"]
    readonly_fields = ["sha256", "size", "md5", "sha1", "sha512", "created"]


@admin.register(FileTombstone)
class FileTombstoneAdmin(admin.ModelAdmin):
    list_display = ["path", "repository", "deleted"]
    list_filter = ["repository"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "scope", "expires", "last_used", "revoked"]
    list_filter = ["scope"]
    search_fields = ["name", "prefix", "user__username"]
    # The hash is useless to a person and the secret is never stored: tokens are made with
    # create_token, the API or the web page, never here.
    exclude = ["key_hash"]
    readonly_fields = ["prefix", "created", "last_used"]

    def has_add_permission(self, request):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created", "username", "action", "repository_name", "package_name", "version"]
    list_filter = ["action"]
    search_fields = ["username", "repository_name", "package_name", "token_prefix"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RepositoryRole)
class RepositoryRoleAdmin(admin.ModelAdmin):
    list_display = ["repository", "user", "group", "role"]
    list_filter = ["role"]
