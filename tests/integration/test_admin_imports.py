"""The console's CSV import over HTTP: a file with a bad row (errors per line, nothing written) and a good one
(progress to 100%, a history row), the progress page refreshing itself until done; 閲覧 cannot upload;
uploads elsewhere stay refused; another tenant's job 404."""

from pathlib import Path

from admin_support import make_staff, staff_login
from conftest import run
from mypage.importjobs import service
from mypage.importjobs.tables import ImportJob
from mypage.records.tables import Customer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"


def console(client_for, role="support", email="support@example.jp", tenant="aicom"):
    staff = make_staff(tenant, email, role, name="佐藤　サポート")
    client = client_for(tenant)
    assert staff_login(client, staff).status_code == 303
    return client


def upload(client, name, kind="customers", content=None):
    data = content if content is not None else (FIXTURES / name).read_bytes()
    return client.post(
        "/admin/imports",
        data={"kind": kind, "_csrf_token": client.csrf()},
        files={"file": (name, data, "text/csv")},
        follow_redirects=False,
    )


def customers() -> int:
    return run(Customer.count().where(Customer.tenant == "aicom").run())


def test_bad_file_then_good_file(db, app, client_for, portal):
    support = console(client_for)
    page = support.get("/admin/imports")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text

    bad = upload(support, "customers_errors.csv")
    assert bad.status_code == 303
    job_page = support.get(bad.headers["location"])
    assert 'http-equiv="refresh"' in job_page.text and "待機中" in job_page.text
    run(service.run_queued(db, portal))  # the job worker's round (a server runs it in its lifespan)
    done = support.get(bad.headers["location"])
    assert 'http-equiv="refresh"' not in done.text
    assert "取り込めませんでした" in done.text and '<td data-label="行">3</td>' in done.text and "phone" in done.text
    assert customers() == 0

    good = upload(support, "customers.csv")
    run(service.run_queued(db, portal))
    finished = support.get(good.headers["location"])
    assert 'value="100"' in finished.text and "取り込みが完了しました" in finished.text
    assert customers() > 0
    history = support.get("/admin/imports").text
    assert history.count("customers.csv") == 1 and "customers_errors.csv" in history
    assert "佐藤　サポート" in history and "エラー（" in history and "完了" in history


def test_upload_errors_next_to_the_field(app, client_for):
    support = console(client_for)
    empty = upload(support, "empty.csv", content=b"")
    assert empty.status_code == 400 and "CSVファイルを選択してください。" in empty.text
    bad_kind = upload(support, "customers.csv", kind="secrets")
    assert bad_kind.status_code == 400 and "種類を一覧から選択してください。" in bad_kind.text
    assert run(ImportJob.count().run()) == 0


def test_viewer_cannot_upload_and_tenants_apart(app, client_for):
    support = console(client_for)
    job_url = upload(support, "customers.csv").headers["location"]
    viewer = console(client_for, role="viewer", email="viewer@example.jp")
    assert "取り込む" not in viewer.get("/admin/imports").text
    assert upload(viewer, "customers.csv").status_code == 403
    assert viewer.get(job_url).status_code == 200
    other = console(client_for, role="admin", email="admin@nmedia.example", tenant="nmedia")
    assert other.get(job_url).status_code == 404
    assert "customers.csv" not in other.get("/admin/imports").text
    assert run(ImportJob.count().run()) == 1


def test_files_stay_refused_on_other_forms(app, client_for):
    support = console(client_for)
    response = support.post(
        "/admin/inquiries/1/reply",
        data={"_csrf_token": support.csrf()},
        files={"body": ("x.txt", b"hello", "text/plain")},
    )
    assert response.status_code == 400
