"""Talk to the PyPI endpoints the way twine and pip do, through Django's test client."""

import hashlib
from pathlib import Path

JSON = "application/vnd.pypi.simple.v1+json"


def twine_form(path, **overrides):
    """The multipart form twine sends for a distribution file."""
    path = Path(path)
    data = path.read_bytes()
    filetype = "bdist_wheel" if path.name.endswith(".whl") else "sdist"
    form = {
        ":action": "file_upload",
        "protocol_version": "1",
        "metadata_version": "2.1",
        "filetype": filetype,
        "pyversion": "py3" if filetype == "bdist_wheel" else "source",
        "md5_digest": hashlib.md5(data).hexdigest(),
        "sha256_digest": hashlib.sha256(data).hexdigest(),
        "blake2_256_digest": hashlib.blake2b(data, digest_size=32).hexdigest(),
    }
    form.update(overrides)
    return form


def upload(client, repository, path, persona=None, *, filename=None, url_suffix="", **overrides):
    path = Path(path)
    form = twine_form(path, **overrides)
    with path.open("rb") as handle:
        from django.core.files.uploadedfile import SimpleUploadedFile

        form["content"] = SimpleUploadedFile(filename or path.name, handle.read())
    headers = persona.auth if persona is not None else {}
    return client.post(f"/repository/{repository}/{url_suffix}", form, **headers)


def simple_json(client, repository, project, persona=None):
    headers = persona.auth if persona is not None else {}
    response = client.get(f"/repository/{repository}/simple/{project}/", HTTP_ACCEPT=JSON, **headers)
    assert response.status_code == 200, response.content
    return response.json()


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
