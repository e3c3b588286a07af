"""Onboarding a new ISP end to end (issue 12, "Done means"), on a running server that is never restarted:

``mypage tenant new`` from the worked example's answer file (docs/onboarding.md) and the guide's edits,
``mypage tenant reload``; a platform staff member invited on the command line enrols TOTP on the platform
host and invites the tenant's first admin by mail; the admin enrols TOTP, brands the portal and publishes;
a customer imported by CSV registers with the new tenant's rules (mailed link, mailed login code) and logs in.

The server and the CLI use temporary copies of ``tenants/`` and ``themes/`` (``MYPAGE_TENANTS_DIR`` /
``MYPAGE_THEMES_DIR``), so the new tenant never lands in the repository. Mail is delivered by the server's
own outbox worker to the real SMTP server of ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from .conftest import CHROMIUM, ROOT, _free_port

pytestmark = pytest.mark.browser
SECRET = "onboarding-test-secret-0123456789abcdef0123"
ANSWERS = ROOT / "tests" / "fixtures" / "onboarding" / "shiokaze.answers.toml"
HEADER_COLOUR = "getComputedStyle(document.querySelector('.site-header')).backgroundColor"
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")

# docs/onboarding.md, section 3: what the operator changes in the generated tenant.toml.
GUIDE_EDITS: dict[str, dict[str, str]] = {
    "contact": {
        "name": '{ ja = "しおかぜケーブルテレビ カスタマーセンター", en = "Shiokaze Cable TV Customer Center" }',
        "hours": '{ ja = "受付時間 9:00〜18:00（年中無休）", en = "9:00-18:00, every day" }',
    },
    "mail": {
        "sender_name": '{ ja = "しおかぜケーブルテレビ マイページ", en = "Shiokaze Cable TV My Page" }',
        "signature": '{ ja = "しおかぜケーブルテレビ カスタマーセンター\\n0120-345-678（9:00〜18:00）", '
        'en = "Shiokaze Cable TV Customer Center\\n0120-345-678 (9:00-18:00)" }',
    },
    "identity.login_id": {
        "label": '{ ja = "ログインID", en = "Login ID" }',
        "min_length": "6",
        "max_length": "20",
        "allowed": '"A-Za-z0-9"',
        "case_insensitive": "true",
        "rule_text": '{ ja = "※半角英数字6〜20文字で設定してください。", en = "6-20 half-width letters and digits." }',
    },
    "identity.password": {
        "min_length": "8",
        "max_length": "20",
        "allowed": '"A-Za-z0-9"',
        "required_classes": '["digit"]',
        "classes": '["upper", "lower"]',
        "min_classes": "1",
        "rule_text": '{ ja = "※英字と数字をそれぞれ1文字以上含む、半角8〜20文字", '
        'en = "8-20 half-width characters with at least one letter and one digit." }',
    },
    "identity.tokens": {"registration_link_minutes": "1440", "login_otp_minutes": "10", "password_reset_minutes": "60"},
    "invoicing": {
        "registration_number": '"T4010401099999"',
        "issuer_name": '{ ja = "株式会社しおかぜケーブルテレビ", en = "Shiokaze Cable TV Co., Ltd." }',
        "issuer_address": '""',
    },
    "[menu]": {"label": '{ ja = "メニュー", en = "Menu" }'},
    "features.billing": {"months": "12", "layout": '"month_list"', "invoice_pdf": "true"},
    "features.inquiries": {
        "categories": "[\n"
        '  { key = "service", label = { ja = "サービスについて", en = "About our services" } },\n'
        '  { key = "charges", label = { ja = "料金について", en = "About charges" } },\n'
        '  { key = "other", label = { ja = "その他", en = "Other" } },\n'
        "]"
    },
    "texts": {
        '"link.register"': '{ ja = "初めてご利用の方", en = "First time here?" }',
        '"verify.customer_number.help"': '{ ja = "請求書に記載の8桁のお客様番号（先頭の0は省略できます）", '
        'en = "The 8-digit customer number on your invoice (leading zeros may be left out)." }',
    },
}

CUSTOMERS_CSV = 'customer_number,name,name_kana,phone,services\n00012345,潮風　太郎,シオカゼ　タロウ,0898-00-1234,"internet,tv"\n'
CONTRACTS_CSV = (
    "contract_number,customer_number,service,service_name,plan_name,status,started_on\n"
    "SKZ0000000001,00012345,internet,しおかぜ光,しおかぜ光 1ギガ,ご利用中,2024-04-01\n"
)


def set_keys(text: str, section: str, values: dict[str, str]) -> str:
    """Sets ``key = value`` in ``[section]`` of a tenant.toml, keeping its comments: an active line (and the
    lines of a multi-line array) is replaced, a key that is only commented out is added under the header."""
    lines = text.split("\n")
    start = lines.index(f"[{section}]")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    for key, value in values.items():
        found = next((i for i in range(start + 1, end) if lines[i].startswith(f"{key} = ")), None)
        new = value.split("\n")
        if found is None:
            lines[start + 1 : start + 1] = [f"{key} = {new[0]}", *new[1:]]
        else:
            last = found
            if lines[found].rstrip().endswith("["):
                last = next(i for i in range(found, end) if lines[i] == "]")
            lines[found : last + 1] = [f"{key} = {new[0]}", *new[1:]]
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    return "\n".join(lines)


class Onboarding:
    """The running server (``mypage run``) and the CLI, both on the temporary folders and database."""

    def __init__(self, folder: Path, smtp_url: str):
        self.port = _free_port()
        self.env = {
            **os.environ,
            "MYPAGE_SQLITE_PATH": str(folder / "onboarding.sqlite3"),
            "MYPAGE_TENANTS_DIR": str(folder / "tenants"),
            "MYPAGE_THEMES_DIR": str(folder / "themes"),
            "MYPAGE_SECRET_KEY": SECRET,
            "PORT": str(self.port),
            "MYPAGE_SMTP_URL": smtp_url,
            "MYPAGE_MAIL_WORKER": "1",  # the server delivers its outbox to the test SMTP server itself
            "MYPAGE_DATABASE_URL": "",
            "MYPAGE_REDIS_URL": "",
            "MYPAGE_PLATFORM_HOST": "platform.localhost",
            "PYTHONPATH": str(ROOT / "platform"),
        }
        self.folder = folder
        self.tenants = folder / "tenants"

    def mypage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "mypage.cli", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert not check or done.returncode == 0, f"mypage {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}.localhost:{self.port}{path}"


@pytest.fixture
def onboarding(tmp_path, smtp_server):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}")
    shutil.copytree(ROOT / "tenants", tmp_path / "tenants")
    shutil.copytree(ROOT / "themes", tmp_path / "themes")
    live = Onboarding(tmp_path, smtp_server.url)
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "mypage.cli", "run", "--no-demo"],
        cwd=ROOT,
        env=live.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{live.port}/healthz", timeout=2)
            break
        except Exception:
            if server.poll() is not None or time.time() > deadline:
                os.killpg(server.pid, signal.SIGKILL)
                log.close()
                raise RuntimeError((tmp_path / "server.log").read_text()) from None
            time.sleep(0.3)
    yield live
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
    log.close()


def wait_for_mail(smtp_server, address: str, subject: str, timeout: float = 20.0):
    """The newest mail to ``address`` whose subject contains ``subject`` (the server's outbox worker sends)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = [mail for mail in smtp_server.to(address) if subject in mail["Subject"]]
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no mail to {address} about {subject}: {[m['Subject'] for m in smtp_server.to(address)]}")


def status_of(live: Onboarding, host: str, path: str) -> int:
    """The status of ``path`` on ``host`` (the test process does not resolve ``*.localhost``: the Host header)."""
    request = urllib.request.Request(f"http://127.0.0.1:{live.port}{path}", headers={"Host": f"{host}:{live.port}"})
    try:
        return urllib.request.urlopen(request, timeout=5).status
    except urllib.error.HTTPError as exc:
        return exc.code


def write_tenant(live: Onboarding) -> None:
    """Steps 2 and 3 of docs/onboarding.md: ``tenant new`` from the answer file, the guide's edits, ``tenant check``."""
    written = live.mypage("tenant", "new", "--answers", str(ANSWERS))
    assert "placeholders to fill in" in written.stdout
    check = live.mypage("tenant", "check", "shiokaze", check=False)
    assert check.returncode == 1 and "7 problem(s) in 1 tenant folder(s)" in check.stdout + check.stderr
    toml = live.tenants / "shiokaze" / "tenant.toml"
    text = toml.read_text(encoding="utf-8")
    for section, values in GUIDE_EDITS.items():
        text = set_keys(text, section, values)
    toml.write_text(text, encoding="utf-8")
    logo = '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="40"><text x="0" y="28">しおかぜ</text></svg>'
    (live.tenants / "shiokaze" / "static" / "logo.svg").write_text(logo, encoding="utf-8")
    check = live.mypage("tenant", "check", "shiokaze", check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "ok" in check.stdout and "shiokaze.localhost" in check.stdout


def enrol_platform_staff(page: Page, live: Onboarding, smtp_server) -> pyotp.TOTP:
    invited = live.mypage("platform", "invite", "ops@platform.example", "--name", "運用　花子", "--print-link")
    link = re.search(r"https?://\S+/platform/invite/\S+", invited.stdout)
    assert link and link.group(0).startswith(f"http://platform.localhost:{live.port}/"), invited.stdout
    mailed = wait_for_mail(smtp_server, "ops@platform.example", "プラットフォーム管理への招待")  # the server's worker sent it
    assert link.group(0) in mailed.get_body(("plain",)).get_content()
    page.goto(link.group(0))
    secret = page.locator("main code").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("パスワード(12文字以上)").fill("platform-pass-0123")
    page.get_by_label("パスワード(確認)").fill("platform-pass-0123")
    page.get_by_label("確認コード").fill(totp.now())
    page.get_by_role("button", name="設定する").click()
    page.wait_for_url(live.url("platform", "/platform/recovery-codes"))
    assert page.locator("ul.recovery-codes li").count() == 10
    page.get_by_role("link", name="控えました").click()
    page.wait_for_url(live.url("platform", "/platform/login"))
    page.get_by_label("メールアドレス").fill("ops@platform.example")
    page.get_by_label("パスワード").fill("platform-pass-0123")
    page.get_by_role("button", name="次へ").click()
    page.get_by_label("確認コード").fill(totp.at(time.time() + 30))  # the enrolment used the current step
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live.url("platform", "/platform"))
    return totp


def test_a_new_isp_is_onboarded_without_a_restart(onboarding, browser, smtp_server):
    live = onboarding
    write_tenant(live)
    assert status_of(live, "shiokaze.localhost", "/login") == 404  # the running server does not know it yet
    reloaded = live.mypage("tenant", "reload")
    assert "shiokaze" in reloaded.stdout
    deadline = time.time() + 15
    while status_of(live, "shiokaze.localhost", "/login") != 200:
        assert time.time() < deadline, "the running server did not pick up the new tenant"
        time.sleep(0.3)

    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    customer = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        phone = customer.new_page()
        phone.set_default_timeout(15000)
        phone.goto(live.url("shiokaze", "/login"))
        assert phone.evaluate(HEADER_COLOUR) == "rgb(31, 95, 168)"  # the generated folder's default colour

        # The platform team: enrol, find the tenant, invite its first admin.
        enrol_platform_staff(page, live, smtp_server)
        page.get_by_label("検索(スラッグ・名称・ホスト)").fill("しおかぜ")
        page.get_by_role("button", name="検索").click()
        row = page.locator("tr[data-tenant=shiokaze]")
        expect(row).to_contain_text("しおかぜケーブルテレビ")
        row.get_by_role("link", name="しおかぜケーブルテレビ").click()
        page.wait_for_url(live.url("platform", "/platform/tenants/shiokaze"))
        admin_email = "chief@shiokaze-catv.jp"
        page.get_by_label("氏名").fill("潮風　管理")
        page.get_by_label("メールアドレス").fill(admin_email)
        page.get_by_role("button", name="招待メールを送る").click()
        expect(page.locator("body")).to_contain_text("管理者に招待メールを送りました。")
        mail = wait_for_mail(smtp_server, admin_email, "管理コンソールへの招待")
        assert "しおかぜケーブルテレビ" in mail["Subject"]
        invitation = next(url for url in smtp_server.links(mail) if "/admin/invite/" in url)
        assert invitation.startswith(live.url("shiokaze", "/admin/invite/")), invitation

        # The tenant's first admin: password and authenticator app, login, branding.
        page.goto(invitation)
        totp = pyotp.TOTP(page.locator("code.totp-secret").inner_text().replace(" ", ""))
        page.locator("#f-password").fill("shiokaze-admin-0123")
        page.locator("#f-password_confirm").fill("shiokaze-admin-0123")
        page.locator("#f-code").fill(totp.now())
        page.get_by_role("button", name="設定する").click()
        page.wait_for_url(live.url("shiokaze", "/admin/recovery-codes"))
        page.get_by_role("link", name="控えました").click()
        page.wait_for_url(live.url("shiokaze", "/admin/login"))
        page.locator("#f-email").fill(admin_email)
        page.locator("#f-password").fill("shiokaze-admin-0123")
        page.locator("#f-password").press("Enter")
        page.locator("#f-code").fill(totp.at(time.time() + 30))
        page.locator("#f-code").press("Enter")
        page.wait_for_url(live.url("shiokaze", "/admin"))
        page.get_by_role("link", name="ブランディング").click()
        page.wait_for_url(live.url("shiokaze", "/admin/branding"))
        page.locator("#f-primary_colour").fill("#0b5563")
        page.locator("#f-accent_colour").fill("#a05a00")
        page.get_by_role("button", name="下書きに保存", exact=True).click()
        expect(page.locator("main")).to_contain_text("下書きを保存しました")
        page.get_by_role("button", name="公開する").click()
        expect(page.locator("main")).to_contain_text("バージョン1を公開しました")

        # Customers and contracts from the operator's CSV exports.
        (live.folder / "customers.csv").write_text(CUSTOMERS_CSV, encoding="utf-8")
        (live.folder / "contracts.csv").write_text(CONTRACTS_CSV, encoding="utf-8")
        live.mypage("import", "shiokaze", "customers", str(live.folder / "customers.csv"))
        live.mypage("import", "shiokaze", "contracts", str(live.folder / "contracts.csv"))

        page.goto(live.url("platform", "/platform?q=shiokaze"))
        expect(page.locator("tr[data-tenant=shiokaze] td.customers")).to_have_text("1")

        # The customer, on a phone: the new brand on the login page, registration, login with the mailed code.
        register_and_log_in(phone, live, smtp_server)
    finally:
        context.close()
        customer.close()
    assert "Traceback" not in (live.folder / "server.log").read_text(encoding="utf-8")


def register_and_log_in(page: Page, live: Onboarding, smtp_server) -> None:
    page.goto(live.url("shiokaze", "/login"))
    assert page.evaluate(HEADER_COLOUR) == "rgb(11, 85, 99)"  # #0b5563, published by the admin
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.locator("body")).to_contain_text("しおかぜケーブルテレビ")
    page.get_by_role("link", name="初めてご利用の方").click()
    expect(page.locator("main")).to_contain_text("請求書に記載の8桁のお客様番号")
    page.locator("#f-customer_number").fill("12345")  # leading zeros left out
    page.locator("#f-phone").fill("0898001234")
    page.locator("#f-name_kana").fill("シオカゼ タロウ")
    page.get_by_role("button", name="確認", exact=True).click()
    expect(page.locator("main")).to_contain_text("※半角英数字6〜20文字で設定してください。")

    email = "taro@shiokaze-mail.example"
    page.locator("#f-login_id").fill("shio-taro")  # a hyphen: not allowed by this tenant's rule
    page.locator("#f-password").fill("Shiokaze2026")
    page.locator("#f-email").fill(email)
    page.locator("#f-nickname").fill("しおかぜ太郎")
    page.get_by_role("button", name="確認する").click()
    expect(page.locator("#f-login_id-error")).to_be_visible()
    page.locator("#f-login_id").fill("shiotaro26")
    page.locator("#f-password").fill("Shiokaze2026")
    page.get_by_role("button", name="確認する").click()
    page.get_by_role("button", name="仮登録する").click()
    expect(page.locator("main")).to_contain_text(f"{email} 宛に確認メールを送信しました。")
    mail = wait_for_mail(smtp_server, email, "仮登録受付完了")
    assert "しおかぜケーブルテレビ カスタマーセンター" in smtp_server.text(mail)  # the tenant's signature
    page.goto(next(url for url in smtp_server.links(mail) if "/register/" in url))
    page.locator("#f-password").fill("Shiokaze2026")
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_role("button", name="そのままログイン")).to_be_visible()
    assert "登録完了のお知らせ" in wait_for_mail(smtp_server, email, "登録完了のお知らせ")["Subject"]

    # Log in as the tenant says: login ID and password, then the code mailed to the customer.
    page.goto(live.url("shiokaze", "/login"))
    page.get_by_label("ログインID").fill("SHIOTARO26")  # case-insensitive
    page.locator("#f-password").fill("Shiokaze2026")
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live.url("shiokaze", "/login/email_otp"))
    code = CODE.search(smtp_server.text(wait_for_mail(smtp_server, email, "ワンタイムパスワード")))
    assert code
    page.get_by_label("ワンタイムパスワード").fill(code.group(1))
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live.url("shiokaze", "/"))
    expect(page.locator("main")).to_contain_text("しおかぜ太郎")
    page.goto(live.url("shiokaze", "/contracts"))
    expect(page.locator("main")).to_contain_text("しおかぜ光 1ギガ")
