from conftest import run
from mypage.identity.accounts import AccountRepository
from mypage.identity.passwords import hash_password


def test_login_page_per_tenant_and_password_login(app, client_for, portal):
    aicom = client_for("aicom")
    page = aicom.get("/login")
    assert page.status_code == 200
    assert "アカウントID" in page.text

    async def make():
        repo = AccountRepository(portal.tenants.get("aicom"))
        await repo.create(login_id="smoke-user", password_hash=hash_password("Smoke1234"), nickname="スモーク")

    run(make())
    response = aicom.submit("/login", {"login_id": "SMOKE-USER", "password": "Smoke1234"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    home = aicom.get("/")
    assert "スモーク" in home.text
    assert client_for("itscom").get("/", follow_redirects=False).status_code in (302, 303)


def test_start_up_objects_are_frozen_out_of_the_collector_while_the_app_runs(app, client_for):
    import gc

    gc.unfreeze()
    with client_for("aicom") as client:  # runs the app's lifespan
        assert client.get("/login").status_code == 200
        frozen = gc.get_freeze_count()
    assert frozen > 10_000, "modules, tenant configs and routes no longer scanned by each full collection"
    assert gc.get_freeze_count() == 0, "unfrozen at shutdown (tests start many apps in one process)"
