"""CSV imports as background jobs (the console's uploads): the CLI's validation (a bad row: errors per line,
nothing written), a good file to 100% with its history row, members told of new invoices, stale jobs failed,
and the worker of a running server picking an upload up."""

import json
import time
from datetime import timedelta
from pathlib import Path

from conftest import PortalClient, run
from mypage.app import create_app
from mypage.audit.actor import Actor
from mypage.audit.log import AuditLog
from mypage.db.base import utcnow
from mypage.importjobs import service
from mypage.importjobs.repository import ImportJobRepository
from mypage.importjobs.tables import ImportJob
from mypage.portal import Portal
from mypage.records.tables import Customer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"
STAFF = Actor("佐藤", staff_id=5)


def upload(portal, name, kind="customers", tenant="aicom"):
    data = (FIXTURES / name).read_bytes()
    job, errors = run(service.submit(portal.tenants.get(tenant), kind, name, data, STAFF))
    assert not errors, errors
    return job


def customers(tenant="aicom") -> int:
    return run(Customer.count().where(Customer.tenant == tenant).run())


def test_bad_row_reports_per_line_and_writes_nothing(db, app, portal):
    job = upload(portal, "customers_errors.csv")
    assert run(service.run_queued(db, portal)) == 1
    view = run(service.job_view(portal.tenants.get("aicom"), job.id))
    assert view.job.status == "failed" and view.done and view.percent == 0
    lines = {(line, column) for line, column, _reason in view.job.errors}
    assert (3, "phone") in lines
    assert view.job.error_count == len(view.job.errors) and view.job.content is None
    assert customers() == 0  # nothing written, not even the good first row


def test_good_file_to_100_percent_with_history(db, app, portal):
    job = upload(portal, "customers.csv")
    assert run(ImportJob.select(ImportJob.status).first().run())["status"] == "queued"
    assert run(service.job_view(portal.tenants.get("aicom"), job.id)).percent == 0
    run(service.run_queued(db, portal))
    view = run(service.job_view(portal.tenants.get("aicom"), job.id))
    assert view.job.status == "succeeded" and view.percent == 100
    assert view.job.created == customers() > 0 and view.job.processed == view.job.total
    [row] = run(service.history(portal.tenants.get("aicom")))
    assert row["filename"] == "customers.csv" and row["staff_name"] == "佐藤" and row["status"] == "succeeded"
    assert row["finished_at"] is not None and "content" not in row
    finished = run(AuditLog("aicom").events(event="admin.import.finished"))[0]
    assert finished["actor"] == "佐藤" and finished["staff_id"] == 5
    assert json.loads(finished["detail"])["result"] == "succeeded" and json.loads(finished["detail"])["file"] == "customers.csv"
    imported = run(AuditLog("aicom").events(event="records.import"))[0]
    assert imported["actor"] == "佐藤" and json.loads(imported["detail"])["job_id"] == job.id
    # another tenant sees neither the job nor its history
    assert run(service.job_view(portal.tenants.get("nmedia"), job.id)) is None
    assert run(service.history(portal.tenants.get("nmedia"))) == []


def test_upload_checks(app, portal):
    tenant = portal.tenants.get("aicom")
    _, errors = run(service.submit(tenant, "bogus", "x.csv", b"a,b\n", STAFF))
    assert "kind" in errors
    _, errors = run(service.submit(tenant, "customers", "x.csv", b"", STAFF))
    assert "file" in errors
    _, errors = run(service.submit(tenant, "customers", "x.csv", b"x" * (service.MAX_UPLOAD_BYTES + 1), STAFF))
    assert "大きすぎます" in errors["file"]
    job, _ = run(service.submit(tenant, "customers", "C:\\Users\\me\\list.csv", b"a\n", STAFF))
    assert job.filename == "list.csv"
    assert run(ImportJob.count().run()) == 1


def test_a_job_left_running_by_a_dead_process_is_failed(db, app, portal):
    job = upload(portal, "customers.csv")
    repo = ImportJobRepository("aicom")
    assert run(repo.claim(job.id)) is not None
    assert run(repo.claim(job.id)) is None  # claimed once
    run(repo.change(job.id, started_at=utcnow() - timedelta(hours=3)))
    run(service.run_queued(db, portal))
    stale = run(repo.by_id(job.id))
    assert stale.status == "failed" and "中断" in stale.errors[0][2]


def test_the_server_worker_runs_uploads(db, portal):
    settings = db.with_(run_job_worker=True, job_worker_interval=0.05)
    server = create_app(settings, portal=Portal(settings, tenants=portal.tenants))
    with PortalClient(server, base_url="http://aicom.localhost") as client:
        assert client.get("/healthz").status_code == 200
        job = upload(portal, "customers.csv")
        deadline = time.monotonic() + 10
        while run(ImportJob.select(ImportJob.status).where(ImportJob.id == job.id).first().run())["status"] != "succeeded":
            assert time.monotonic() < deadline, "the worker did not run the job"
            time.sleep(0.05)
    assert customers() > 0
