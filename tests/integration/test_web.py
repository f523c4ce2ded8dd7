"""The web pages people use before any client: the repository list and client set-up."""

import pytest

pytestmark = pytest.mark.django_db


def test_home_lists_the_repositories_you_may_read(client, personas):
    page = client.get("/").content.decode()
    assert "public-py" in page and "private-py" not in page
    client.force_login(personas["reader"].user)
    page = client.get("/").content.decode()
    assert "public-py" in page and "private-py" in page


def test_repository_page_shows_client_setup(client, personas):
    client.force_login(personas["reader"].user)
    page = client.get("/ui/repositories/private-py/").content.decode()
    assert "pip install --index-url http://testserver/repository/private-py/simple/" in page
    assert "twine upload --repository-url http://testserver/repository/private-py/" in page
    assert "machine testserver login __token__ password TOKEN" in page


def test_private_repository_page_is_hidden(client, personas):
    response = client.get("/ui/repositories/private-py/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(personas["outsider"].user)
    assert client.get("/ui/repositories/private-py/").status_code == 404
    assert client.get("/ui/repositories/no-such/").status_code == 404


def test_login_page_and_admin(client, personas):
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": "reader", "password": "pw-reader"})
    assert response.status_code == 302
    assert client.get("/ui/tokens/").status_code == 200
    assert client.get("/admin/").status_code == 302  # not staff


def test_npm_repository_page_shows_npmrc(client, personas):
    from registry.models import Repository, RepositoryRole, Role

    repository = Repository.objects.create(name="team-npm", format="npm", visibility="private")
    RepositoryRole.objects.create(repository=repository, user=personas["reader"].user, role=Role.READ)
    client.force_login(personas["reader"].user)
    page = client.get("/ui/repositories/team-npm/").content.decode()
    assert "registry=http://testserver/repository/team-npm/" in page
    assert "//testserver/repository/team-npm/:_authToken=TOKEN" in page
    assert "npm login --auth-type=legacy --registry=http://testserver/repository/team-npm/" in page


def test_maven_repository_page_shows_settings_and_pom_snippets(client, personas):
    from registry.models import Repository

    Repository.objects.create(name="team-mvn", format="maven", visibility="public")
    page = client.get("/ui/repositories/team-mvn/").content.decode()
    assert "&lt;url&gt;http://testserver/repository/team-mvn/&lt;/url&gt;" in page
    assert "&lt;id&gt;team-mvn&lt;/id&gt;" in page and "__token__" in page
    assert 'uri("http://testserver/repository/team-mvn/")' in page


def test_deb_repository_page_shows_apt_setup(client, personas):
    from registry.models import Repository, RepositoryRole, Role

    from registry.services import signing_keys
    from registry.services.access import Actor

    repository = Repository.objects.create(name="team-deb", format="deb", visibility="private")
    RepositoryRole.objects.create(repository=repository, user=personas["reader"].user, role=Role.READ)
    key = signing_keys.ensure_key(Actor(user=personas["owner"].user), repository)
    client.force_login(personas["reader"].user)
    page = client.get("/ui/repositories/team-deb/").content.decode()
    assert "curl -fsSL http://testserver/repository/team-deb/key.asc -o /etc/apt/keyrings/team-deb.asc" in page
    assert "/etc/apt/auth.conf.d/team-deb.conf" in page
    # apt uses credentials over http only for a machine line that names the scheme.
    assert "machine http://testserver/repository/team-deb/\nlogin __token__" in page
    assert f"<code>{key.fingerprint}</code> (ed25519" in page


def test_rpm_repository_page_shows_dnf_setup(client, personas):
    from registry.models import Repository, RepositoryRole, Role

    from registry.services import signing_keys
    from registry.services.access import Actor

    repository = Repository.objects.create(name="team-rpm", format="rpm", visibility="private",
                                           settings={"sign_packages": True})
    RepositoryRole.objects.create(repository=repository, user=personas["reader"].user, role=Role.READ)
    key = signing_keys.ensure_key(Actor(user=personas["owner"].user), repository)
    client.force_login(personas["reader"].user)
    page = client.get("/ui/repositories/team-rpm/").content.decode()
    assert ("curl -fsSL -u __token__:TOKEN http://testserver/repository/team-rpm/team-rpm.repo "
            "-o /etc/yum.repos.d/team-rpm.repo") in page
    assert "baseurl=http://testserver/repository/team-rpm/\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1" in page
    assert "gpgkey=http://testserver/repository/team-rpm/key.asc\nusername=__token__\npassword=TOKEN" in page
    assert f"<code>{key.fingerprint}</code> (ed25519" in page
    # The .repo file the browser session gets has the lines to fill in, not a secret.
    repo = client.get("/repository/team-rpm/team-rpm.repo").content.decode()
    assert repo.endswith("username=__token__\npassword=YOUR_READ_TOKEN\n")
