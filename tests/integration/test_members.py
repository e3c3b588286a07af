"""ユーザ管理: administrators only, register (issued access ID and temporary password), update, delete,
last-administrator protection, notifications to users with メール通知 あり."""

from urllib.parse import urlsplit

from feature_support import make_account, make_customer, sign_in

from conftest import run
from mypage.audit.log import AuditLog
from mypage.identity.tables import Account
from mypage.members.notify import notify_members


def fetch(query):
    return run(query.run())


def setup_customer(client_for, role="owner"):
    customer = make_customer("nmedia", "1000001")
    admin = make_account("nmedia", customer, "adm001", email="admin@example.jp", role=role, display_name="管理者")
    return sign_in(client_for("nmedia"), "nmedia", admin), customer, admin


def accounts_of(customer):
    return fetch(Account.objects().where(Account.customer == customer).order_by(Account.id))


def test_general_users_are_told_it_is_for_administrators_and_admins_see_the_page(app, client_for):
    client, customer, _admin = setup_customer(client_for)
    general = make_account("nmedia", customer, "gen001", email="gen@example.jp", role="general", display_name="一般")
    page = client.get("/members")
    assert page.status_code == 200
    for text in (
        "ユーザ管理",
        "メールアドレス",
        "ユーザ名",
        "ユーザ種別",
        "メール通知",
        "登録",
        "更新",
        "クリア",
        "削除",
        "ユーザー一覧",
        "※管理者ユーザはユーザ管理機能へのアクセス可、一般ユーザはユーザ管理機能へのアクセス不可になります。",
    ):
        assert text in page.text
    assert "gen@example.jp" in page.text and "admin@example.jp" in page.text
    general_client = sign_in(client_for("nmedia"), "nmedia", general)
    refused = general_client.get("/members")
    assert refused.status_code == 403 and "管理者ユーザのみご利用いただけます" in refused.text
    assert "ページが見つかりません" not in refused.text
    assert (
        general_client.submit("/members", {"action": "register", "email": "x@example.jp", "display_name": "x"}).status_code == 403
    )
    # not logged in: the login page; other tenants: the feature is off
    assert client_for("nmedia").get("/members", follow_redirects=False).status_code in (302, 303)
    other = make_customer("itscom", "2000001")
    itscom_admin = make_account("itscom", other, "owner@example.jp", role="owner")
    assert sign_in(client_for("itscom"), "itscom", itscom_admin).get("/members").status_code == 404


def test_register_member_mails_access_id_and_temporary_password(app, client_for, deliver):
    client, customer, _admin = setup_customer(client_for)
    response = client.submit(
        "/members",
        {"action": "register", "email": "Hanako@Example.JP", "display_name": "花子", "role": "general", "mail_notify": "no"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "ご登録頂いたメールアドレス宛に仮パスワードを発行いたしました。" in client.get("/members").text
    member = accounts_of(customer)[-1]
    assert member.email == "Hanako@example.jp" and member.role == "general" and member.mail_notify is False
    assert member.status == "pending" and member.must_change_password
    message = deliver().last_to("Hanako@example.jp")
    text = deliver().text(message)
    assert member.login_id in text and "仮パスワード" in text
    from mypage.identity.issued import FIRST_LOGIN_PREFIX

    links = [link for link in deliver().links(message) if FIRST_LOGIN_PREFIX in link]
    assert links
    # the member follows the same first-login flow
    assert client_for("nmedia").get(urlsplit(links[0]).path).status_code == 200
    assert run(AuditLog("nmedia").events(event="member.created"))
    # the same address again is refused, the input kept
    again = client.submit(
        "/members", {"action": "register", "email": "hanako@example.jp", "display_name": "花子2", "role": "admin"}
    )
    assert again.status_code == 400 and "このメールアドレスは既に登録されています。" in again.text and "花子2" in again.text
    bad = client.submit("/members", {"action": "register", "email": "not-an-address", "display_name": "", "role": "admin"})
    assert bad.status_code == 400
    assert "メールアドレスの形式で入力してください。" in bad.text and "ユーザ名を入力してください。" in bad.text
    assert len(accounts_of(customer)) == 2


def test_max_members(app, client_for, portal):
    client, customer, _admin = setup_customer(client_for)
    limit = portal.tenants.get("nmedia").config.features.members.max_members
    for i in range(limit - 1):
        make_account("nmedia", customer, f"m{i:05d}", email=f"m{i}@example.jp", role="general")
    full = client.submit(
        "/members", {"action": "register", "email": "late@example.jp", "display_name": "遅刻", "role": "general"}
    )
    assert full.status_code == 400 and f"登録できるユーザは{limit}人までです。" in full.text


def test_select_update_and_delete(app, client_for):
    client, customer, _admin = setup_customer(client_for)
    member = make_account("nmedia", customer, "mem001", email="mem@example.jp", role="general", display_name="メンバー")
    page = client.get(f"/members?edit={member}")
    assert 'value="mem@example.jp"' in page.text and 'value="メンバー"' in page.text
    updated = client.submit(
        "/members",
        {
            "action": "update",
            "id": str(member),
            "email": "mem2@example.jp",
            "display_name": "メンバー2",
            "role": "admin",
            "mail_notify": "no",
        },
        follow_redirects=False,
    )
    assert updated.status_code == 303
    row = fetch(Account.objects().where(Account.id == member).first())
    assert (row.email, row.display_name, row.role, row.mail_notify) == ("mem2@example.jp", "メンバー2", "admin", False)
    # delete asks for confirmation first
    confirm = client.submit("/members", {"action": "delete", "id": str(member), "email": "", "display_name": ""})
    assert confirm.status_code == 200 and "以下のユーザを削除します。" in confirm.text
    assert fetch(Account.count().where(Account.id == member)) == 1
    done = client.submit("/members/delete", {"id": str(member)}, follow_redirects=False)
    assert done.status_code == 303
    assert fetch(Account.count().where(Account.id == member)) == 0
    assert run(AuditLog("nmedia").events(event="member.deleted"))


def test_other_customers_members_are_404(app, client_for):
    client, _customer, _admin = setup_customer(client_for)
    stranger_customer = make_customer("nmedia", "1000002")
    stranger = make_account("nmedia", stranger_customer, "str001", email="str@example.jp", role="admin")
    assert client.get(f"/members?edit={stranger}").status_code == 404
    assert client.get("/members?edit=abc").status_code == 404
    assert "str@example.jp" not in client.get("/members").text
    response = client.submit("/members/delete", {"id": str(stranger)})
    assert response.status_code == 400
    response = client.submit(
        "/members", {"action": "update", "id": str(stranger), "email": "x@example.jp", "display_name": "x", "role": "general"}
    )
    assert response.status_code == 400
    assert fetch(Account.objects().where(Account.id == stranger).first()).email == "str@example.jp"


def test_last_administrator_is_protected(app, client_for):
    client, customer, admin = setup_customer(client_for)
    member = make_account("nmedia", customer, "mem001", email="mem@example.jp", role="general")
    demote = client.submit(
        "/members",
        {
            "action": "update",
            "id": str(admin),
            "email": "admin@example.jp",
            "display_name": "管理者",
            "role": "general",
            "mail_notify": "yes",
        },
    )
    assert demote.status_code == 400 and "管理者ユーザが1人のため、ユーザ種別を一般に変更できません。" in demote.text
    delete = client.submit("/members/delete", {"id": str(admin)})
    assert delete.status_code == 400 and "管理者ユーザが1人のため、このユーザは削除できません。" in delete.text
    assert fetch(Account.objects().where(Account.id == admin).first()).role == "owner"
    # with a second administrator, the first may step down (and then loses access)
    client.submit(
        "/members",
        {
            "action": "update",
            "id": str(member),
            "email": "mem@example.jp",
            "display_name": "m",
            "role": "admin",
            "mail_notify": "yes",
        },
    )
    stepped = client.submit(
        "/members",
        {
            "action": "update",
            "id": str(admin),
            "email": "admin@example.jp",
            "display_name": "管理者",
            "role": "general",
            "mail_notify": "yes",
        },
        follow_redirects=False,
    )
    assert stepped.status_code == 303 and stepped.headers["location"] == "/"
    assert client.get("/members").status_code == 403


def test_a_pending_administrator_does_not_count_as_one(app, client_for):
    client, customer, admin = setup_customer(client_for)
    pending = make_account("nmedia", customer, "adm002", email="admin2@example.jp", role="admin")
    fetch(Account.update({Account.status: "pending"}).where(Account.id == pending))
    demote = client.submit(
        "/members",
        {
            "action": "update",
            "id": str(admin),
            "email": "admin@example.jp",
            "display_name": "管理者",
            "role": "general",
            "mail_notify": "yes",
        },
    )
    assert demote.status_code == 400 and "管理者ユーザが1人のため、ユーザ種別を一般に変更できません。" in demote.text
    delete = client.submit("/members/delete", {"id": str(admin)})
    assert delete.status_code == 400 and "管理者ユーザが1人のため、このユーザは削除できません。" in delete.text
    assert fetch(Account.objects().where(Account.id == admin).first()).role == "owner"
    # the pending administrator itself may still be demoted or deleted by the active one
    stepped = client.submit(
        "/members",
        {
            "action": "update",
            "id": str(pending),
            "email": "admin2@example.jp",
            "display_name": "p",
            "role": "general",
            "mail_notify": "yes",
        },
        follow_redirects=False,
    )
    assert stepped.status_code == 303
    assert fetch(Account.objects().where(Account.id == pending).first()).role == "general"
    assert client.submit("/members/delete", {"id": str(pending)}, follow_redirects=False).status_code == 303
    assert [a.id for a in accounts_of(customer)] == [admin]


def test_an_administrator_demoted_meanwhile_can_no_longer_change_members(app, client_for, portal):
    import pytest

    from mypage.members import service

    _client, customer, admin = setup_customer(client_for)
    other = make_account("nmedia", customer, "adm002", email="admin2@example.jp", role="admin")
    member = make_account("nmedia", customer, "gen001", email="gen@example.jp", role="general")
    # the guard let the request in with this account; another request demotes it before the change runs
    acting = fetch(Account.objects().where(Account.id == admin).first())
    fetch(Account.update({Account.role: "general"}).where(Account.id == admin))
    with pytest.raises(service.NotAdministrator):
        run(service.delete(portal.tenants.get("nmedia"), acting, member))
    assert fetch(Account.count().where(Account.id == member)) == 1
    assert fetch(Account.objects().where(Account.id == other).first()).role == "admin"


def test_admin_may_delete_themselves_when_not_last(app, client_for):
    client, customer, admin = setup_customer(client_for)
    make_account("nmedia", customer, "adm002", email="admin2@example.jp", role="admin")
    response = client.submit("/members/delete", {"id": str(admin)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert fetch(Account.count().where(Account.id == admin)) == 0
    assert client.get("/members", follow_redirects=False).status_code in (302, 303)


def test_notify_members(app, client_for, portal, deliver):
    customer = make_customer("nmedia", "1000001")
    other = make_customer("nmedia", "1000002")
    make_account("nmedia", customer, "adm001", email="on@example.jp", role="owner", display_name="通知あり")
    make_account("nmedia", customer, "gen001", email="off@example.jp", role="general", mail_notify=False)
    make_account("nmedia", other, "adm002", email="other@example.jp", role="owner")
    tenant = portal.tenants.get("nmedia")
    assert run(notify_members(portal, tenant, customer, "invoice", {"month": "2025-01"})) == 1
    sink = deliver()
    message = sink.last_to("on@example.jp")
    assert "請求書掲載のお知らせ" in message["Subject"] and "2025年1月分の請求書" in sink.text(message)
    assert not sink.to("off@example.jp") and not sink.to("other@example.jp")
    sink.clear()
    assert run(notify_members(portal, tenant, None, "notice", {"title": "メンテナンスのお知らせ"})) == 2
    assert {m["To"] for m in deliver().messages} == {"on@example.jp", "other@example.jp"}
    # a tenant without ユーザ管理 sends nothing
    itscom_customer = make_customer("itscom", "2000001")
    make_account("itscom", itscom_customer, "x@example.jp", email="x@example.jp")
    assert run(notify_members(portal, portal.tenants.get("itscom"), None, "notice", {})) == 0


def test_invoice_import_notifies_members(db, deliver):
    from pathlib import Path

    from mypage.records.importer import run_import
    from mypage.records.tables import Customer

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "import"
    for kind in ("customers", "contracts"):
        assert run(run_import(db, "nmedia", kind, str(fixtures / f"{kind}.csv"))) == 0
    taro = fetch(Customer.select(Customer.id).where(Customer.tenant == "nmedia").where(Customer.number == "0001234567").first())
    make_account("nmedia", taro["id"], "tar001", email="taro@example.jp", display_name="太郎")
    make_account("nmedia", taro["id"], "tar002", email="quiet@example.jp", role="general", mail_notify=False)
    assert run(run_import(db, "nmedia", "invoices", str(fixtures / "invoices.csv"))) == 0
    sink = deliver()
    assert "請求書掲載のお知らせ" in sink.last_to("taro@example.jp")["Subject"]
    assert not sink.to("quiet@example.jp")
    sink.clear()
    # importing the same file again adds nothing and mails nobody
    assert run(run_import(db, "nmedia", "invoices", str(fixtures / "invoices.csv"))) == 0
    assert deliver().messages == []


def test_posting_a_notice_shows_it_and_mails_users_with_notification(app, db, client_for, portal, deliver):
    from click.testing import CliRunner

    from mypage.cli import main
    from mypage.notices.service import post_notice
    from mypage.records.tables import Notice

    customer = make_customer("nmedia", "1000003")
    make_account("nmedia", customer, "adm003", email="notify@example.jp", role="owner")
    make_account("nmedia", customer, "pend003", email="pending@example.jp", role="general", status="pending")
    _notice, mails = run(
        post_notice(portal, portal.tenants.get("nmedia"), title="メンテナンスのお知らせ", body="11月30日 2:00~5:00")
    )
    assert mails == 1
    sink = deliver()
    assert "メンテナンスのお知らせ" in sink.text(sink.last_to("notify@example.jp"))
    assert not sink.to("pending@example.jp")  # its first login is not done: no notices yet
    assert fetch(Notice.count().where(Notice.tenant == "nmedia")) == 1
    assert fetch(Notice.count().where(Notice.tenant == "itscom")) == 0
    import pytest

    with pytest.raises(ValueError):
        run(post_notice(portal, portal.tenants.get("nmedia"), title="  ", body=""))
    scratch = {"MYPAGE_SQLITE_PATH": str(db.sqlite_path.with_name("cli-scratch.sqlite3")), "MYPAGE_DATABASE_URL": ""}
    result = CliRunner().invoke(main, ["staff", "notice", "nobody", "--title", "x"], env=scratch)
    assert result.exit_code != 0 and "nobody" in result.output
