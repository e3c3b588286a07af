"""The transactional outbox: written with the change, delivered over real SMTP with retries, branded and localized."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta

import pytest

from conftest import PortalClient, run
from mypage.app import create_app
from mypage.db.transaction import atomic
from mypage.mail.delivery import backoff, deliver_due
from mypage.mail.outbox import enqueue
from mypage.mail.tables import OutboxMail
from mypage.portal import Portal


def send_notice(portal, slug="aicom", to="taro@example.jp", locale="ja", **context):
    context = {"subject": "お知らせ件名", "body": "本文です。", "link": "", **context}
    return enqueue(portal, portal.tenants.get(slug), to=to, template="notice", context=context, locale=locale)


async def rows() -> list[dict]:
    return await OutboxMail.select().order_by(OutboxMail.id)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_mail_is_written_in_the_same_transaction(db, portal):
    class Boom(Exception):
        pass

    async def fail_after_enqueue():
        async with atomic():
            await send_notice(portal)
            raise Boom()

    with pytest.raises(Boom):
        run(fail_after_enqueue())
    assert run(rows()) == []

    async def commit():
        async with atomic():
            await send_notice(portal)

    run(commit())
    [row] = run(rows())
    assert row["tenant"] == "aicom" and row["sent_at"] is None and row["attempts"] == 0


def test_branded_mail_with_text_and_html_parts(db, portal, deliver):
    run(send_notice(portal, "itscom", to="hanako@example.jp", subject="ご登録ありがとうございます", link="http://x.example/a"))
    sink = deliver()
    message = sink.last_to("hanako@example.jp")
    sender = message["From"].addresses[0]
    tenant = portal.tenants.get("itscom").config
    assert sender.display_name == tenant.mail.sender_name.ja
    assert sender.addr_spec == tenant.mail.sender
    assert message["Subject"] == "ご登録ありがとうございます"
    assert message["Auto-Submitted"] == "auto-generated"
    text = sink.text(message)
    assert "本文です。" in text and f"{tenant.names.ja}をご利用いただき、ありがとうございます。" in text
    assert tenant.mail.signature.ja.splitlines()[0] in text
    assert "http://x.example/a" in sink.links(message)
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<html" in html and tenant.branding.primary_colour in html and "本文です。" in html


def test_mail_in_english(db, portal, deliver):
    run(send_notice(portal, "aicom", to="en@example.jp", locale="en", subject="Notice", body="Hello."))
    message = deliver().last_to("en@example.jp")
    tenant = portal.tenants.get("aicom").config
    assert message["From"].addresses[0].display_name == tenant.mail.sender_name.en
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"Thank you for using {tenant.names.en}." in text
    assert tenant.mail.signature.en.splitlines()[0] in text


def test_html_part_escapes_context(db, portal, deliver):
    run(send_notice(portal, to="x@example.jp", body="<script>alert(1)</script>"))
    message = deliver().last_to("x@example.jp")
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_nothing_is_lost_while_smtp_is_down_then_sent_exactly_once(db, portal, mail):
    run(send_notice(portal, to="retry@example.jp"))
    down = db.with_(smtp_url=f"smtp://127.0.0.1:{closed_port()}")

    assert run(deliver_due(down)) == (0, 1)
    [row] = run(rows())
    assert row["attempts"] == 1 and row["sent_at"] is None and row["last_error"]
    first_wait = row["next_attempt_at"] - datetime.now(UTC)
    assert timedelta(seconds=20) < first_wait <= backoff(1)

    # Not due yet: a new round does not touch it.
    assert run(deliver_due(down)) == (0, 0)

    async def make_due():
        await OutboxMail.update({OutboxMail.next_attempt_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
            OutboxMail.id == row["id"]
        )

    run(make_due())
    assert run(deliver_due(down)) == (0, 1)
    [row] = run(rows())
    assert row["attempts"] == 2
    second_wait = row["next_attempt_at"] - datetime.now(UTC)
    assert second_wait > first_wait  # back-off grows

    run(make_due())
    up = db.with_(smtp_url=mail.url)
    assert run(deliver_due(up)) == (1, 0)
    assert run(deliver_due(up)) == (0, 0)
    run(make_due())
    assert run(deliver_due(up)) == (0, 0)  # sent mail is never sent again
    assert len(mail.to("retry@example.jp")) == 1
    [row] = run(rows())
    assert row["sent_at"] is not None and row["attempts"] == 3 and row["last_error"] == ""


def test_backoff_doubles_and_is_capped():
    assert backoff(1) == timedelta(seconds=30)
    assert backoff(2) == timedelta(seconds=60)
    assert backoff(3) == timedelta(seconds=120)
    assert backoff(30) == timedelta(hours=1)


def test_a_claimed_mail_is_not_sent_by_a_second_worker(db, portal, mail):
    """Two workers meet on the same due mail: the conditional claim lets only one send it."""
    from mypage.mail import delivery

    run(send_notice(portal, to="once@example.jp"))
    [row] = run(rows())
    assert run(delivery._claim(row["id"])) is True
    assert run(delivery._claim(row["id"])) is False
    assert run(deliver_due(db.with_(smtp_url=mail.url))) == (0, 0)
    assert mail.to("once@example.jp") == []


def test_the_app_runs_the_outbox_worker_when_configured(db, portal, mail):
    settings = db.with_(smtp_url=mail.url, run_mail_worker=True, mail_worker_interval=0.05)
    app = create_app(settings, portal=Portal(settings, tenants=portal.tenants))
    with PortalClient(app, base_url="http://aicom.localhost") as client:
        assert client.get("/healthz").status_code == 200
        run(send_notice(portal, to="worker@example.jp"))
        deadline = time.monotonic() + 10
        while not mail.to("worker@example.jp") and time.monotonic() < deadline:
            time.sleep(0.05)
    # Leaving the client shuts the app down: the worker finishes its round, so the mail is marked sent.
    assert len(mail.to("worker@example.jp")) == 1
    [row] = run(rows())
    assert row["sent_at"] is not None


def test_no_worker_without_smtp_url(db, portal):
    settings = db.with_(smtp_url="", run_mail_worker=True, mail_worker_interval=0.05)
    app = create_app(settings, portal=Portal(settings, tenants=portal.tenants))
    with PortalClient(app, base_url="http://aicom.localhost") as client:
        run(send_notice(portal, to="stay@example.jp"))
        time.sleep(0.2)
        assert client.get("/healthz").status_code == 200
    [row] = run(rows())
    assert row["sent_at"] is None and row["attempts"] == 0


def dev_client(app) -> PortalClient:
    return PortalClient(app, base_url="http://localhost")


def test_dev_mail_viewer_lists_and_shows_mail(app, portal):
    run(send_notice(portal, "nmedia", to="viewer@example.jp", subject="確認コードのお知らせ", body="<b>太字</b>ではありません"))
    client = dev_client(app)
    listing = client.get("/_dev/mail")
    assert listing.status_code == 200
    for expected in ("nmedia", "viewer@example.jp", "確認コードのお知らせ", "not sent"):
        assert expected in listing.text
    [row] = run(rows())
    detail = client.get(f"/_dev/mail/{row['id']}")
    assert detail.status_code == 200
    assert "確認コードのお知らせ" in detail.text and "viewer@example.jp" in detail.text
    assert "&lt;b&gt;太字&lt;/b&gt;ではありません" in detail.text  # text part, escaped
    assert '<iframe class="mail-html" sandbox srcdoc="' in detail.text
    srcdoc = detail.text.split('srcdoc="', 1)[1].split('"', 1)[0]
    assert "<" not in srcdoc and "&lt;html" in srcdoc  # the HTML part is escaped into the attribute
    csp = detail.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert client.get("/_dev/mail/999999").status_code == 404
    assert client.get("/_dev/mail?tenant=aicom").text.count("viewer@example.jp") == 0


def test_dev_mail_viewer_is_not_on_tenant_hosts(app, portal, client_for):
    run(send_notice(portal, to="hidden@example.jp"))
    [row] = run(rows())
    aicom = client_for("aicom")
    for path in ("/_dev/mail", f"/_dev/mail/{row['id']}"):
        response = aicom.get(path)
        assert response.status_code == 404
        assert "hidden@example.jp" not in response.text


def test_dev_pages_are_404_without_dev_mode(db, portal):
    settings = db.with_(dev_mode=False)
    app = create_app(settings, portal=Portal(settings, tenants=portal.tenants))
    run(send_notice(portal, to="prod@example.jp"))
    client = dev_client(app)
    for path in ("/", "/_dev/mail", "/_dev/mail/1"):
        response = client.get(path)
        assert response.status_code == 404
        assert "prod@example.jp" not in response.text
