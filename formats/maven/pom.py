"""Read a POM with a parser that refuses entity declarations and external references
(defusedxml), and record what the registry shows: coordinates, packaging, name, description,
licences and dependencies. Plain Python."""

import re
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from registry.errors import InvalidPackage

MAX_POM_BYTES = 4 * 1024 * 1024
PROPERTY_RE = re.compile(r"\$\{([^}]+)\}")


@dataclass
class Pom:
    group_id: str
    artifact_id: str
    version: str
    packaging: str = "jar"
    name: str = ""
    description: str = ""
    url: str = ""
    licenses: list = field(default_factory=list)
    dependencies: list = field(default_factory=list)

    def as_metadata(self):
        return {
            "groupId": self.group_id, "artifactId": self.artifact_id, "version": self.version,
            "packaging": self.packaging, "name": self.name, "description": self.description,
            "url": self.url, "licenses": self.licenses, "dependencies": self.dependencies,
        }


def parse(raw):
    """A Pom from the bytes of a pom.xml; raises InvalidPackage."""
    if len(raw) > MAX_POM_BYTES:
        raise InvalidPackage(f"Invalid POM: larger than {MAX_POM_BYTES} bytes.")
    root = parse_xml(raw, "POM", "project")

    properties = {child.tag: (child.text or "").strip() for child in root.findall("properties/*")}
    group_id = _text(root, "groupId") or _text(root, "parent/groupId")
    version = _text(root, "version") or _text(root, "parent/version")
    properties.update({
        "project.groupId": group_id, "pom.groupId": group_id,
        "project.version": version, "pom.version": version,
        "project.parent.version": _text(root, "parent/version"),
        "project.parent.groupId": _text(root, "parent/groupId"),
    })

    def value(path):
        return _interpolate(_text(root, path), properties)

    pom = Pom(
        group_id=_interpolate(group_id, properties),
        artifact_id=value("artifactId"),
        version=_interpolate(version, properties),
        packaging=value("packaging") or "jar",
        name=value("name"),
        description=value("description"),
        url=value("url"),
        licenses=[_interpolate(_text(license_, "name"), properties)
                  for license_ in root.findall("licenses/license") if _text(license_, "name")],
        dependencies=[
            {key: _interpolate(_text(dependency, key), properties)
             for key in ("groupId", "artifactId", "version", "scope", "optional", "type", "classifier")
             if _text(dependency, key)}
            for dependency in root.findall("dependencies/dependency")
        ],
    )
    for label, found in (("groupId", pom.group_id), ("artifactId", pom.artifact_id),
                         ("version", pom.version)):
        if not found:
            raise InvalidPackage(f"Invalid POM: no {label}.")
        if "${" in found:
            raise InvalidPackage(f"Invalid POM: the {label} {found!r} has an unresolved property.")
    return pom


def parse_xml(raw, what, root_tag):
    """The root element of a Maven XML file (POM, maven-metadata.xml), namespaces stripped;
    DTDs, entities and external references refused."""
    try:
        root = fromstring(raw, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InvalidPackage(
            f"Invalid {what}: {exc.__class__.__name__} (DTDs, entities and external references "
            "are not accepted)."
        ) from None
    except (ParseError, ValueError) as exc:
        raise InvalidPackage(f"Invalid {what}: not well-formed XML ({exc}).") from None
    except LookupError as exc:  # an encoding declaration Python does not know
        raise InvalidPackage(f"Invalid {what}: {exc}.") from None
    _strip_namespaces(root)
    if root.tag != root_tag:
        raise InvalidPackage(f"Invalid {what}: the root element is <{root.tag}>, not <{root_tag}>.")
    return root


def _strip_namespaces(root):
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = element.tag.split("}", 1)[1]


def _text(element, path):
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _interpolate(text, properties, depth=5, limit=4096):
    # Bounded: properties that refer to each other must not grow a value without end.
    for _ in range(depth):
        if "${" not in text or len(text) > limit:
            break
        text = PROPERTY_RE.sub(lambda m: properties.get(m.group(1)) or m.group(0), text)
    return text
