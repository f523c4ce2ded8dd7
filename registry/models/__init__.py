from .audit import AuditEvent
from .blob import Blob
from .package import FileDownloads, FileTombstone, Package, PackageFile, PackageVersion
from .permission import Role, RepositoryRole
from .publication import Publication, PublicationFile, PublishLease
from .repository import GroupMember, Repository
from .signing import RepositoryKey, SigningKey
from .token import ApiToken
from .upstream import Upstream, UpstreamBlob, UpstreamDocument, UpstreamFetch

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Blob",
    "FileDownloads",
    "FileTombstone",
    "GroupMember",
    "Package",
    "PackageFile",
    "PackageVersion",
    "Publication",
    "PublicationFile",
    "PublishLease",
    "Repository",
    "RepositoryKey",
    "RepositoryRole",
    "Role",
    "SigningKey",
    "Upstream",
    "UpstreamBlob",
    "UpstreamDocument",
    "UpstreamFetch",
]
