"""Every screen of the operators' guides (``/work/shared/seeds``), once: the table read by
``tests/browser/test_guide_screens.py`` (layout and labels, both sizes) and ``scripts/screenshots.py``.

A screen is reached by ``path`` (a GET) or, when it needs the state of the screens before it, by ``walk``
(a function driving the page on from the previous screen of the same tenant). Screens are walked in table
order, one browser context per tenant; ``login`` screens come after the tenant's public ones and share one
login. Walks that would change what other tests rely on stop before the final submit (the screens after it
are checked by the journey tests named in ``docs/guides-coverage.md``).

Mail (one-time passwords, links) is read from the live server's outbox table: ``mail(address)`` returns the
newest body sent to an address.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SIZES = {"desktop": DESKTOP, "phone": PHONE}


class Outbox:
    """The newest mail to an address, read from the live server's SQLite outbox."""

    def __init__(self, sqlite_path: Path):
        self.sqlite_path = sqlite_path
        self.marks: dict[str, int] = {}

    def mark(self, address: str) -> None:
        """Remember how many mails the address has, before an action that sends one."""
        self.marks[address.lower()] = len(self._rows(address))

    def _rows(self, address: str) -> list[str]:
        db = sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=10)
        try:
            rows = db.execute(
                "SELECT text_body FROM outbox_mail WHERE lower(recipient) = lower(?) ORDER BY id", (address,)
            ).fetchall()
        finally:
            db.close()
        return [row[0] for row in rows]

    def wait_for(self, address: str, timeout: float = 15.0) -> str:
        """The first mail to the address after its ``mark``."""
        before = self.marks.get(address.lower(), 0)
        deadline = time.time() + timeout
        while time.time() < deadline:
            rows = self._rows(address)
            if len(rows) > before:
                return rows[-1]
            time.sleep(0.2)
        raise AssertionError(f"no new mail to {address}")

    def free_aicom_customer(self) -> dict:
        """A generated aicom customer without an account, the first by id (other tests take the last ones)."""
        db = sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=10)
        try:
            number, phone, kana = db.execute(
                "SELECT number, phone, name_kana FROM customers c WHERE tenant = 'aicom' AND number <> '0001234567'"
                " AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.tenant = 'aicom' AND a.customer = c.id)"
                " AND (SELECT COUNT(*) FROM customers d WHERE d.tenant = 'aicom' AND d.phone = c.phone) = 1"
                " ORDER BY id LIMIT 1"
            ).fetchone()
        finally:
            db.close()
        return {"number": number.lstrip("0"), "phone": phone, "kana": kana}

    def free_customer(self, tenant: str, first_number: str) -> dict:
        """A generated internet customer (number ≥ ``first_number``) without an account whose phone is its own."""
        db = sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=10)
        try:
            number, phone, kana, postal = db.execute(
                "SELECT number, phone, name_kana, postal_code FROM customers c WHERE tenant = ? AND number >= ?"
                " AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.tenant = c.tenant AND a.customer = c.id)"
                " AND (SELECT COUNT(*) FROM customers d WHERE d.tenant = c.tenant AND d.phone = c.phone) = 1"
                " AND c.services LIKE '%internet%' ORDER BY id LIMIT 1",
                (tenant, first_number),
            ).fetchone()
        finally:
            db.close()
        return {"number": number, "phone": phone, "kana": kana, "postal_code": postal}

    def free_nmedia_contract(self) -> dict:
        """A generated nmedia customer without an account: one of its CAF contract numbers, postal code, kana."""
        db = sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=10)
        try:
            number, postal, kana = db.execute(
                "SELECT k.number, c.postal_code, c.name_kana FROM customers c JOIN contracts k"
                " ON k.customer = c.id AND k.tenant = c.tenant WHERE c.tenant = 'nmedia' AND k.number LIKE 'CAF%'"
                " AND c.number >= '0000000100'"
                " AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.tenant = c.tenant AND a.customer = c.id)"
                " ORDER BY c.id LIMIT 1"
            ).fetchone()
        finally:
            db.close()
        return {"contract": number, "postal_code": postal, "kana": kana}


LINK = re.compile(r"https?://\S+")
OTP = re.compile(r"^\s*(\d{6})\s*$", re.M)


def _path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


LABEL_BREAKS = r"""
() => {
  // Short labels (table headers, fact names, field labels) on one line: a break inside 「ご利用内容」 reads badly.
  const out = [];
  for (const el of document.querySelectorAll('th, dt, .field > label, fieldset > legend')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue;
    const text = el.textContent.replace(/\s+/g, ' ').trim();
    if (!text || text.length > 14) continue;
    const lines = window.__textLines(el);
    if (lines > 1) out.push(`${location.pathname}: the label 「${text}」 breaks over ${lines} lines`);
  }
  return out;
}
"""
"""Run after ``PROBLEMS`` of ``test_layout_phone.py`` (which defines ``window.__textLines``)."""


# -- walks: from the previous screen of the tenant to the next ---------------------------------------------


def aicom_profile(page: Page, live, mail: Outbox) -> None:
    """初回会員登録(認証情報) → (初期情報), with a generated customer that has no account yet."""
    customer = mail.free_aicom_customer()
    page.goto(live.url("aicom", "/register"))
    page.locator("#f-customer_number").fill(customer["number"])
    page.locator("#f-phone").fill(customer["phone"])
    page.locator("#f-name_kana").fill(customer["kana"])
    page.get_by_role("button", name="認証").click()
    expect(page.locator("h1")).to_have_text("初回会員登録(初期情報)")


AICOM_NEW = {"login_id": "guide-screens", "password": "Guide1234", "email": "guide-screens@example.jp"}


def aicom_confirm(page: Page, live, mail: Outbox) -> None:
    page.locator("#f-login_id").fill(AICOM_NEW["login_id"])
    page.locator("#f-password").fill(AICOM_NEW["password"])
    page.locator("#f-email").fill(AICOM_NEW["email"])
    page.locator("#f-nickname").fill("ガイド確認")
    page.get_by_role("button", name="確認する").click()
    expect(page.locator("h1")).to_contain_text("確認")


def aicom_sent(page: Page, live, mail: Outbox) -> None:
    mail.mark(AICOM_NEW["email"])
    page.get_by_role("button", name="仮登録する").click()
    expect(page.locator("main")).to_contain_text("仮登録が完了しました。")


def aicom_mail_check(page: Page, live, mail: Outbox) -> None:
    """メール受信確認: the 本登録手続きURL of the 仮登録受付完了 mail."""
    body = mail.wait_for(AICOM_NEW["email"])
    link = next(x for x in LINK.findall(body) if "/register/" in x)
    page.goto(live.url("aicom", _path_of(link)))


def aicom_done(page: Page, live, mail: Outbox) -> None:
    page.locator("#f-password").fill(AICOM_NEW["password"])
    page.get_by_role("button", name="本登録する").click()
    expect(page.locator("main")).to_contain_text("本登録が完了しました。")


def aicom_detail(page: Page, live, mail: Outbox) -> None:
    page.goto(live.url("aicom", "/billing"))
    page.get_by_role("link", name="詳細").first.click()
    expect(page.locator("main h1")).to_have_text("ご利用料金の明細")


def itscom_extra(page: Page, live, mail: Outbox) -> None:
    """契約者情報 認証 with answers that fit two customers → 追加認証情報."""
    page.goto(live.url("itscom", "/register"))
    page.get_by_label("ご契約者氏名(カナ)").fill("イッツ　ジロウ")
    page.get_by_label("登録済みの電話番号").fill("0337005678")
    page.get_by_role("radio", name="口座番号 下4桁").check()
    page.get_by_label("お支払情報等の内容").fill("5678")
    page.get_by_role("button", name="確認").click()
    expect(page.locator("h1")).to_have_text("追加認証情報")


def itscom_id_step(page: Page, live, mail: Outbox) -> None:
    """追加認証情報 → STEP3 iTSCOM IDの登録 (not submitted: the journey tests register these customers)."""
    page.get_by_label("認証情報の種類").select_option("customer_number")
    page.get_by_label("追加認証情報の内容").fill("1000000002")
    page.get_by_role("button", name="確認").click()
    expect(page.locator("h1")).to_have_text("iTSCOM IDの登録")


ITSCOM_NEW = {"login_id": "guide-screens@example.jp", "password": "guide-pass1", "new_id": "guide-renamed@example.jp"}
CODE = re.compile(r"認証コード\s*:\s*(\d{6})")


def itscom_sent(page: Page, live, mail: Outbox) -> None:
    """STEP2 with a generated customer (by お客さま番号) → STEP3-4 「iTSCOM ID 新規登録」のメール送信完了."""
    customer = mail.free_customer("itscom", "1000000100")
    page.goto(live.url("itscom", "/register"))
    page.get_by_label("ご契約者氏名(カナ)").fill(customer["kana"])
    page.get_by_label("登録済みの電話番号").fill(customer["phone"])
    page.get_by_role("radio", name="お客さま番号").check()
    page.get_by_label("お支払情報等の内容").fill(customer["number"])
    page.get_by_role("button", name="確認").click()
    expect(page.locator("h1")).to_have_text("iTSCOM IDの登録")
    page.get_by_label("iTSCOM ID").fill(ITSCOM_NEW["login_id"])
    page.locator("#f-password").fill(ITSCOM_NEW["password"])
    page.locator("#f-password_confirm").fill(ITSCOM_NEW["password"])
    mail.mark(ITSCOM_NEW["login_id"])
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("main")).to_contain_text("確認メールを送信しました。")


def itscom_confirm(page: Page, live, mail: Outbox) -> None:
    """STEP3-5/6: the mailed URL → the contents and 「連絡先メールアドレス(※)を選択してください。」."""
    body = mail.wait_for(ITSCOM_NEW["login_id"])
    link = next(x for x in LINK.findall(body) if "/register/email-id/confirm/" in x)
    page.goto(live.url("itscom", _path_of(link)))
    expect(page.locator("h1")).to_have_text("iTSCOM ID 新規登録")


def itscom_registered(page: Page, live, mail: Outbox) -> None:
    """STEP3-7: the new ID as the 連絡先メールアドレス → これでiTSCOM IDの登録は完了です。"""
    page.locator("input[name=contact][value='0']").check()
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("main")).to_contain_text("これでiTSCOM IDの登録は完了です。")


def itscom_id_code(page: Page, live, mail: Outbox) -> None:
    """iTSCOM IDの変更 (the account just registered): 1 変更内容の入力 → 2 認証コード入力."""
    page.context.clear_cookies()
    page.goto(live.url("itscom", "/login"))
    page.get_by_label("iTSCOM ID").fill(ITSCOM_NEW["login_id"])
    page.locator("#f-password").fill(ITSCOM_NEW["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live.url("itscom", "/"))
    page.goto(live.url("itscom", "/account/change/id"))
    page.get_by_label("新しいiTSCOM ID").fill(ITSCOM_NEW["new_id"])
    mail.mark(ITSCOM_NEW["login_id"])
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("h1")).to_have_text("認証コード入力")


def itscom_id_confirm(page: Page, live, mail: Outbox) -> None:
    page.get_by_label("認証コード").fill(CODE.search(mail.wait_for(ITSCOM_NEW["login_id"])).group(1))
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("h1")).to_have_text("変更内容の確認")


def itscom_id_done(page: Page, live, mail: Outbox) -> None:
    page.get_by_role("radio", name="連絡先メールアドレスに設定する").check()
    page.get_by_role("button", name="この内容で登録する").click()
    expect(page.locator("h1")).to_have_text("iTSCOM IDの変更が完了しました。")


def itscom_password_confirm(page: Page, live, mail: Outbox) -> None:
    page.goto(live.url("itscom", "/account/change/password"))
    page.get_by_label("現在のパスワード").fill(ITSCOM_NEW["password"])
    page.locator("#f-password").fill("guide-pass2")
    page.get_by_label("新しいパスワード 再入力").fill("guide-pass2")
    page.get_by_role("button", name="この内容で登録する").click()
    expect(page.locator("h1")).to_have_text("新しいiTSCOM IDのパスワードの登録確認")


def itscom_password_done(page: Page, live, mail: Outbox) -> None:
    page.get_by_role("button", name="登録").click()
    expect(page.locator("h1")).to_have_text("iTSCOM IDのパスワード変更が完了しました。")


def itscom_recover_code(page: Page, live, mail: Outbox) -> None:
    """4-B-1/2 for the renamed account: 本人認証 → 認証コード入力 (the code goes to its 連絡先)."""
    page.context.clear_cookies()
    page.goto(live.url("itscom", "/forgot/identify"))
    page.get_by_label("iTSCOM ID").fill(ITSCOM_NEW["new_id"])
    mail.mark(ITSCOM_NEW["new_id"])
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("h1")).to_have_text("認証コード入力")


def itscom_recover_password(page: Page, live, mail: Outbox) -> None:
    """4-B-3 パスワード登録."""
    page.get_by_label("認証コード").fill(CODE.search(mail.wait_for(ITSCOM_NEW["new_id"])).group(1))
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("h1")).to_have_text("パスワード登録")


def itscom_recover_done(page: Page, live, mail: Outbox) -> None:
    """4-B-4 パスワード再発行完了."""
    page.locator("#f-password").fill("guide-pass3")
    page.locator("#f-password_confirm").fill("guide-pass3")
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("main")).to_contain_text("これでパスワードの再発行は完了です。")


def itscom_mailbox_confirm(page: Page, live, mail: Outbox) -> None:
    """メールアドレスの登録 8-9 (the account just registered): address, sub-domain, 約款 and virus check → 確認."""
    page.context.clear_cookies()
    page.goto(live.url("itscom", "/login"))
    page.get_by_label("iTSCOM ID").fill(ITSCOM_NEW["new_id"])
    page.locator("#f-password").fill("guide-pass3")
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live.url("itscom", "/"))
    page.goto(live.url("itscom", "/mailboxes/new"))
    page.get_by_label("メールアドレス").fill("guide-shot")
    page.get_by_role("button", name="次へ").click()
    page.locator("label.radio input").first.check()
    page.get_by_role("button", name="次へ").click()
    page.get_by_label("契約約款に同意する").check()
    page.get_by_role("button", name="確認").click()
    expect(page.get_by_role("button", name="登録")).to_be_visible()


def itscom_mailbox_done(page: Page, live, mail: Outbox) -> None:
    page.get_by_role("button", name="登録").click()
    expect(page.locator("main")).to_contain_text("これでメールアドレスの登録は完了です。")


def itscom_mailbox_settings(page: Page, live, mail: Outbox) -> None:
    page.goto(live.url("itscom", "/mailboxes"))
    page.get_by_role("link", name="メール設定").first.click()
    expect(page.locator("h1")).to_have_text("メール設定")


def itscom_security_apply(page: Page, live, mail: Outbox) -> None:
    page.goto(live.url("itscom", "/security/apply"))
    expect(page.locator("h1")).to_have_text("お申込み内容の確認")


def itscom_security_applied(page: Page, live, mail: Outbox) -> None:
    page.get_by_role("button", name="申し込む").click()
    expect(page.locator("main")).to_contain_text("ダウンロード・ライセンス情報")


def itscom_question(page: Page, live, mail: Outbox) -> None:
    """パスワードがご不明な場合 → 本人認証 with the 合言葉 demo account → 合言葉登録."""
    page.goto(live.url("itscom", "/forgot/identify"))
    page.get_by_label("iTSCOM ID").fill("aikotoba@itscom.example")
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("h1")).to_have_text("合言葉登録")


def itscom_question_sent(page: Page, live, mail: Outbox) -> None:
    mail.mark("aikotoba@itscom.example")
    page.get_by_label("秘密の質問").select_option("0")
    page.get_by_label("答え").fill("さくら")
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("h1")).to_have_text("本人認証 完了")


def itscom_answer(page: Page, live, mail: Outbox) -> None:
    """合言葉入力 (the mailed link; not submitted: that would give the demo account a new password)."""
    body = mail.wait_for("aikotoba@itscom.example")
    link = next(x for x in LINK.findall(body) if "/forgot/question/answer/" in x)
    page.goto(live.url("itscom", _path_of(link)))


def itscom_code(page: Page, live, mail: Outbox) -> None:
    """本人認証 with an ID that recovers by code → 認証コード入力 (for an unknown ID nothing is mailed)."""
    page.goto(live.url("itscom", "/forgot/identify"))
    page.get_by_label("iTSCOM ID").fill("guide-screens@itscom.example")
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("h1")).to_have_text("認証コード入力")


def itscom_subdomain(page: Page, live, mail: Outbox) -> None:
    page.goto(live.url("itscom", "/mailboxes/new"))
    page.get_by_label("メールアドレス").fill("guide-screens")
    page.get_by_role("button", name="次へ").click()


def itscom_options(page: Page, live, mail: Outbox) -> None:
    page.locator("label.radio input").first.check()
    page.get_by_role("button", name="次へ").click()


NMEDIA_ADMIN = {"login_id": "m95au6", "password": "mediapass1", "email": "m95au6@nmedia.example"}


NMEDIA_NEW = {"email": "guide-screens@nmedia.example", "password": "guide2026pass"}


def nmedia_sent(page: Page, live, mail: Outbox) -> None:
    """2.初回登録 (3)-(8) with a generated customer → 「仮パスワードを発行いたしました」."""
    customer = mail.free_nmedia_contract()
    page.goto(live.url("nmedia", "/register"))
    page.get_by_label("メールアドレス").fill(NMEDIA_NEW["email"])
    page.get_by_label("契約番号").fill(customer["contract"])
    page.get_by_label("郵便番号").fill(customer["postal_code"])
    page.get_by_label("お客様名").fill(customer["kana"])
    page.locator("#f-terms").check()
    mail.mark(NMEDIA_NEW["email"])
    page.get_by_role("button", name="送信").click()
    expect(page.locator("main")).to_contain_text("ご登録頂いたメールアドレス宛に仮パスワードを発行いたしました。")


def nmedia_first_login(page: Page, live, mail: Outbox) -> None:
    """2.初回登録 (8)-(10): the mailed URL → アクセスID + 仮パスワード."""
    body = mail.wait_for(NMEDIA_NEW["email"])
    NMEDIA_NEW["access_id"] = re.search(r"アクセスID\s*:\s*([a-z0-9]{6})\b", body).group(1)
    NMEDIA_NEW["temporary"] = re.search(r"仮パスワード\s*:\s*([a-z0-9]{8})\b", body).group(1)
    link = next(x for x in LINK.findall(body) if "/register/issued-id/login/" in x)
    page.goto(live.url("nmedia", _path_of(link)))
    expect(page.locator("h1")).to_have_text("初回登録")


def nmedia_password(page: Page, live, mail: Outbox) -> None:
    """2.初回登録 (11)-(12) パスワード設定."""
    page.get_by_label("アクセスID").fill(NMEDIA_NEW["access_id"])
    page.get_by_label("仮パスワード (半角英数8桁)").fill(NMEDIA_NEW["temporary"])
    page.get_by_role("button", name="送信").click()
    expect(page.locator("h1")).to_have_text("パスワード設定")


def nmedia_registered(page: Page, live, mail: Outbox) -> None:
    page.locator("#f-password").fill(NMEDIA_NEW["password"])
    page.locator("#f-password_confirm").fill(NMEDIA_NEW["password"])
    page.get_by_role("button", name="送信").click()
    expect(page.locator("main")).to_contain_text("ここまでで初回登録は完了です。")


def nmedia_inquiry_done(page: Page, live, mail: Outbox) -> None:
    """8.お問い合わせ (5) as the account just registered (its own OTP login): 種別 → 送信 → 受付完了."""
    page.context.clear_cookies()
    page.goto(live.url("nmedia", "/login"))
    page.get_by_label("アクセスID").fill(NMEDIA_NEW["access_id"])
    page.locator("#f-password").fill(NMEDIA_NEW["password"])
    mail.mark(NMEDIA_NEW["email"])
    page.get_by_role("button", name="送信").click()
    page.wait_for_url(live.url("nmedia", "/login/email_otp"))
    page.get_by_label("ワンタイムパスワード").fill(OTP.search(mail.wait_for(NMEDIA_NEW["email"])).group(1))
    page.get_by_label("私はロボットではありません").check()
    page.wait_for_function("() => { const f = document.querySelector('input[name=altcha]'); return f && f.value !== ''; }")
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live.url("nmedia", "/"))
    page.goto(live.url("nmedia", "/inquiries"))
    page.get_by_label("種別").select_option(index=1)
    page.get_by_label("内容").fill("ガイドの画面確認です。")
    page.get_by_role("button", name="送信").click()
    page.wait_for_url(live.url("nmedia", "/inquiries/done"))


def nmedia_member_added(page: Page, live, mail: Outbox) -> None:
    """9.ユーザ管理 (6)-(7): a new 一般 user → 「仮パスワードを発行いたしました」."""
    page.goto(live.url("nmedia", "/members"))
    page.get_by_label("メールアドレス").fill("guide-member@nmedia.example")
    page.get_by_label("ユーザ名").fill("ガイド確認")
    page.get_by_role("button", name="登録").click()
    expect(page.locator("main")).to_contain_text("仮パスワードを発行いたしました")


def nmedia_otp(page: Page, live, mail: Outbox) -> None:
    """ログイン: アクセスID + パスワード → [送信] → the ワンタイムパスワード screen."""
    page.context.clear_cookies()
    page.goto(live.url("nmedia", "/login"))
    page.get_by_label("アクセスID").fill(NMEDIA_ADMIN["login_id"])
    page.locator("#f-password").fill(NMEDIA_ADMIN["password"])
    mail.mark(NMEDIA_ADMIN["email"])
    page.get_by_role("button", name="送信").click()
    page.wait_for_url(live.url("nmedia", "/login/email_otp"))


def nmedia_login(page: Page, live, mail: Outbox) -> None:
    """The mailed one-time password and the captcha → [ログイン] → 契約情報."""
    body = mail.wait_for(NMEDIA_ADMIN["email"])
    if not page.url.endswith("/login/email_otp"):  # back from 登録済みメールアドレスをお忘れの方
        page.goto(live.url("nmedia", "/login/email_otp"))
    page.get_by_label("ワンタイムパスワード").fill(OTP.search(body).group(1))
    page.get_by_label("私はロボットではありません").check()
    page.wait_for_function("() => { const f = document.querySelector('input[name=altcha]'); return f && f.value !== ''; }")
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live.url("nmedia", "/"))


def nmedia_month(page: Page, live, mail: Outbox) -> None:
    """料金明細: 年度選択 → the months → one month opened."""
    page.goto(live.url("nmedia", "/billing"))
    year = page.get_by_label("年度選択").locator("option").nth(1).get_attribute("value")
    page.get_by_label("年度選択").select_option(year)
    page.get_by_role("button", name="表示").click()
    page.wait_for_url(re.compile(rf"year={year}$"))
    page.locator("details.billing-month").first.locator("summary").click()


def nmedia_calls(page: Page, live, mail: Outbox) -> None:
    """通話明細: the contract's months → the first month's 通話料金明細."""
    page.goto(live.url("nmedia", "/calls/CAF0000000002"))
    page.locator("main a[href^='/calls/CAF0000000002/']").first.click()
    page.wait_for_url(re.compile(r"/calls/CAF0000000002/\d{4}-?\d{2}$"))


def _login(tenant: str, login_id: str, password: str, label: str) -> Callable[[Page, object, Outbox], None]:
    def walk(page: Page, live, mail: Outbox) -> None:
        page.context.clear_cookies()
        page.goto(live.url(tenant, "/login"))
        page.get_by_label(label).fill(login_id)
        page.locator("#f-password").fill(password)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url(live.url(tenant, "/"))

    return walk


LOGINS: dict[str, Callable[[Page, object, Outbox], None]] = {
    "aicom": _login("aicom", "aicom-demo", "Demo1234", "アカウントID"),
    "itscom": _login("itscom", "demo@itscom.example", "demo-pass1", "iTSCOM ID"),
    "nmedia": lambda page, live, mail: (nmedia_otp(page, live, mail), nmedia_login(page, live, mail)),
}
"""How each tenant's ``login`` screens log in (once per context, unless a screen's walk logs in)."""
LOGIN_WALKS = {nmedia_login}


@dataclass(frozen=True)
class Screen:
    tenant: str
    guide: str
    """The seed file's name without ``.txt``."""
    step: str
    """The guide's section or step, as printed."""
    name: str
    """Short name for the screenshot file."""
    labels: tuple[str, ...]
    """Wording of the guide that the screen shows."""
    path: str | None = None
    walk: Callable[[Page, object, Outbox], None] | None = None
    login: bool = False


A = "aicom-mypage-guide"
IS = "itscom-mypage-start-guide"
IF = "itscom-forgot-id-password"
IM = "itscom-mypage-settings"
N = "nmedia-mypage-guide"

# fmt: off
SCREENS: list[Screen] = [
    # -- あいコムこうか --------------------------------------------------------------------------------
    Screen('aicom', A, 'ログイン画面を開く', 'login', ('ログイン', 'アカウントID', 'パスワード', '初めてログインされる方'), '/login'),
    Screen('aicom', A, '1)初回会員登録(認証情報)', 'register-verify', ('お客様番号', '電話番号', 'お名前(カナ)', 'お客様番号の表記見本はコチラ', '認証'), '/register'),
    Screen('aicom', A, '⇒お客様番号の表記見本はコチラ', 'customer-number-sample', ('お客様番号の表記見本', '環境設定通知書'), '/help/customer_number'),
    Screen('aicom', A, '2)初回会員登録(初期情報)', 'register-profile', ('アカウントID', 'IDチェック', 'パスワード', 'メールアドレス', 'ニックネーム', '確認する'), walk=aicom_profile),
    Screen('aicom', A, '3)確認', 'register-confirm', ('仮登録する', '入力画面に戻る'), walk=aicom_confirm),
    Screen('aicom', A, '4)仮登録', 'register-sent', ('仮登録が完了しました。',), walk=aicom_sent),
    Screen('aicom', A, '5)メール受信確認', 'register-mail-check', ('パスワード', '本登録する'), walk=aicom_mail_check),
    Screen('aicom', A, '6)登録完了', 'register-done', ('本登録が完了しました。', 'そのままログイン'), walk=aicom_done),
    Screen('aicom', A, 'お客様メニューリスト', 'home', ('お客様メニューリスト', 'ご利用料金', 'ご契約内容'), '/', login=True),
    Screen('aicom', A, 'ご利用料金の一覧', 'billing', ('ご利用料金', '詳細'), '/billing', login=True),
    Screen('aicom', A, 'ご利用料金の明細', 'billing-detail', ('ご利用料金の明細',), walk=aicom_detail, login=True),
    Screen('aicom', A, 'ご契約内容', 'contracts', ('ご契約内容',), '/contracts', login=True),
    # -- iTSCOM: スタートガイド (IS), ID・パスワードを忘れた場合 (IF), マイページの設定・変更 (IM) --------------------
    Screen('itscom', IS, 'STEP2 ログイン', 'login', ('iTSCOM ID', 'パスワード', 'iTSCOM IDの新規登録', 'パスワードを表示', 'アカウントログインはこちら', 'リセット'), '/login'),
    Screen('itscom', IS, 'STEP2 契約者情報 認証', 'register-verify', ('契約者情報 認証', 'ご契約者氏名(カナ)', '登録済みの電話番号', 'お支払情報等', 'お客さま番号', '口座番号 下4桁', 'クレジットカード番号 下4桁', '機器情報', '確認', 'リセット'), '/register'),
    Screen('itscom', IS, 'STEP2-4 追加認証情報', 'register-extra', ('追加認証情報', 'お客さま番号', 'セットアップボックス (STB/Hit pot) のID', '確認'), walk=itscom_extra),
    Screen('itscom', IS, 'STEP3 iTSCOM IDの登録/確認', 'register-id', ('iTSCOM ID', 'パスワード', 'パスワード再入力', '次へ', '4～100文字', '6～32文字'), walk=itscom_id_step),
    Screen('itscom', IS, 'STEP3-4 メール送信完了', 'register-sent', ('iTSCOM ID 新規登録', '確認メールを送信しました。'), walk=itscom_sent),
    Screen('itscom', IS, 'STEP3-6 内容の確認・連絡先メールアドレスの選択', 'register-confirm', ('iTSCOM ID 新規登録', '連絡先メールアドレス(※)を選択してください。', '次へ'), walk=itscom_confirm),
    Screen('itscom', IS, 'STEP3-7 登録完了', 'register-done', ('これでiTSCOM IDの登録は完了です。',), walk=itscom_registered),
    Screen('itscom', IM, 'iTSCOM IDの変更 2 認証コード入力', 'account-change-id-code', ('認証コード入力', '連絡先メールアドレスに認証コードを送信しました。', '認証コード', '30分', '次へ'), walk=itscom_id_code),
    Screen('itscom', IM, 'iTSCOM IDの変更 3 変更内容の確認', 'account-change-id-confirm', ('変更内容の確認', '連絡先メールアドレスに設定する', 'この内容で登録する'), walk=itscom_id_confirm),
    Screen('itscom', IM, 'iTSCOM IDの変更 4 変更完了', 'account-change-id-done', ('iTSCOM IDの変更が完了しました。', '新しいiTSCOM ID', '変更日', '連絡先メールアドレスに確認メールを送信しました。', '印刷用画面へ', 'お客さま情報確認・変更へ'), walk=itscom_id_done),
    Screen('itscom', IM, 'iTSCOM IDパスワードの変更 3 登録確認', 'account-change-password-confirm', ('新しいiTSCOM IDのパスワードの登録確認', '登録', '戻る'), walk=itscom_password_confirm),
    Screen('itscom', IM, 'iTSCOM IDパスワードの変更 4 変更完了', 'account-change-password-done', ('iTSCOM IDのパスワード変更が完了しました。', '変更日', '印刷'), walk=itscom_password_done),
    Screen('itscom', IF, '4-B-1/2 認証コード入力(メール送信)', 'forgot-code-sent', ('認証コード入力', '認証コード', '次へ'), walk=itscom_recover_code),
    Screen('itscom', IF, '4-B-3 パスワード登録', 'forgot-code-password', ('パスワード登録', 'パスワード', 'パスワード再入力', '次へ'), walk=itscom_recover_password),
    Screen('itscom', IF, '4-B-4 パスワード再発行完了', 'forgot-code-done', ('これでパスワードの再発行は完了です。',), walk=itscom_recover_done),
    Screen('itscom', IS, 'メールアドレスの登録 8-9 確認', 'mailboxes-confirm', ('メールアドレス新規登録', 'メールウィルスチェック', '登録', '戻る'), walk=itscom_mailbox_confirm),
    Screen('itscom', IS, 'メールアドレスの登録 10 完了(印刷)', 'mailboxes-done', ('これでメールアドレスの登録は完了です。', 'この内容は今後確認ができません。印刷をするか、メモなどに控えてください。', '印刷画面へ'), walk=itscom_mailbox_done),
    Screen('itscom', IS, 'メールアドレス: メールに関する各設定', 'mailbox-settings', ('メール設定', '受信メールサーバー(POP3)', '送信メールサーバー(SMTP)', 'どこでもメール', 'メールパスワード変更'), walk=itscom_mailbox_settings),
    Screen('itscom', IS, 'セキュリティ お申し込み方法', 'security-apply', ('お申込み内容の確認', 'マルチデバイスセキュリティ with Norton Security', '申し込む'), walk=itscom_security_apply),
    Screen('itscom', IS, 'セキュリティ お申込み後', 'security-applied', ('お申込み済み', 'ダウンロード・ライセンス情報', 'ライセンス数', 'ソフトウェアをダウンロード'), walk=itscom_security_applied),
    Screen('itscom', IF, '2. 不明な項目を選択', 'forgot', ('パスワードがご不明な場合', 'iTSCOM IDがご不明な場合(iTSCOM ID新規登録)', '次へ'), '/forgot'),
    Screen('itscom', IF, '3. 本人認証', 'forgot-identify', ('本人認証', 'iTSCOM ID', '次へ'), '/forgot/identify'),
    Screen('itscom', IF, '4-A-1 合言葉登録', 'forgot-question', ('合言葉登録', '秘密の質問', '答え', '次へ'), walk=itscom_question),
    Screen('itscom', IF, '4-A-2 本人認証完了', 'forgot-question-sent', ('本人認証 完了', '連絡先メールアドレス'), walk=itscom_question_sent),
    Screen('itscom', IF, '4-A-4 合言葉入力', 'forgot-answer', ('合言葉入力', '秘密の質問', '答え', 'ID・パスワード再発行'), walk=itscom_answer),
    Screen('itscom', IF, '4-B-2 認証コード入力', 'forgot-code', ('認証コード入力', '認証コード', '次へ'), walk=itscom_code),
    Screen('itscom', IS, 'マイページでできること(トップページ)', 'home', ('料金', 'ご契約・手続き', '各種設定', 'ヘルプ', '契約プラン'), '/', login=True),
    Screen('itscom', IS, 'A 料金: ご請求明細の確認', 'billing', ('ご請求明細',), '/billing', login=True),
    Screen('itscom', IS, 'A 料金: お支払い方法の確認・変更', 'payment-method', ('お支払い方法', 'クレジットカード'), '/billing/payment-method', login=True),
    Screen('itscom', IS, 'B ご契約情報確認・変更', 'contracts', ('ご契約',), '/contracts', login=True),
    Screen('itscom', IS, 'B サービス加入・変更履歴', 'contracts-history', ('サービス加入・変更履歴',), '/contracts/history', login=True),
    Screen('itscom', IS, 'B 契約内容確認書のダウンロード', 'contracts-confirmation', ('契約内容確認書',), '/contracts/confirmation', login=True),
    Screen('itscom', IS, 'B お友だち紹介', 'referral', ('お友だち紹介',), '/contracts/referral', login=True),
    Screen('itscom', IM, 'お客さま情報確認・変更', 'account', ('お客さま情報確認・変更', 'アカウント情報を変更する'), '/account', login=True),
    Screen('itscom', IM, 'アカウント情報の変更', 'account-change', ('アカウント情報の変更', 'iTSCOM ID', 'パスワード', '変更'), '/account/change', login=True),
    Screen('itscom', IM, 'iTSCOM IDの変更 1 変更内容の入力', 'account-change-id', ('現在のiTSCOM ID', '新しいiTSCOM ID', 'mypage@itscom.jp', '次へ'), '/account/change/id', login=True),
    Screen('itscom', IM, 'iTSCOM IDパスワードの変更 1 変更内容の入力', 'account-change-password', ('現在のパスワード', '新しいパスワード', '新しいパスワード 再入力', 'この内容で登録する'), '/account/change/password', login=True),
    Screen('itscom', IS, 'メールアドレスの登録 1', 'mailboxes', ('メールアドレス', '新規登録', 'どこでもメール'), '/mailboxes', login=True),
    Screen('itscom', IS, 'メールアドレスの登録 3 メールアドレス入力', 'mailboxes-new', ('メールアドレス', '3～20文字', '次へ'), '/mailboxes/new', login=True),
    Screen('itscom', IS, 'メールアドレスの登録 5 サブドメイン候補', 'mailboxes-subdomain', ('サブドメイン', '他のサブドメイン候補を表示する', '次へ'), walk=itscom_subdomain, login=True),
    Screen('itscom', IS, 'メールアドレスの登録 7 契約約款・ウィルスチェック', 'mailboxes-options', ('契約約款', 'メールウィルスチェック', 'ON', 'OFF', '確認'), walk=itscom_options, login=True),
    Screen('itscom', IS, 'セキュリティ Norton マルチデバイスセキュリティ', 'security', ('マルチデバイスセキュリティ with Norton Security', '627円', '(税込)', '対応OS', '主な機能'), '/security', login=True),
    # -- 日本メディアシステム ----------------------------------------------------------------------------
    Screen('nmedia', N, '2.初回登録 (1) ログイン', 'login', ('マイページ ログイン', 'アクセスID', 'パスワード', '送信', 'IDまたはパスワードをお忘れの方はこちら', '新規作成の方はこちら'), '/login'),
    Screen('nmedia', N, '2.初回登録 (3)-(8)', 'register', ('初回登録', 'メールアドレス', '契約番号', '郵便番号', 'お客様名', '登録済みの法人格を表示', '利用規約に同意', '送信'), '/register'),
    Screen('nmedia', N, '2.初回登録 (7) 仮パスワードの発行', 'register-sent', ('ご登録頂いたメールアドレス宛に仮パスワードを発行いたしました。',), walk=nmedia_sent),
    Screen('nmedia', N, '2.初回登録 (8)-(10) アクセスID・仮パスワード', 'first-login', ('初回登録', 'アクセスID', '仮パスワード (半角英数8桁)', '送信'), walk=nmedia_first_login),
    Screen('nmedia', N, '2.初回登録 (11)-(12) パスワード設定', 'first-login-password', ('パスワード設定', '半角英小文字/数字で半角8文字以上32文字以下', '送信'), walk=nmedia_password),
    Screen('nmedia', N, '2.初回登録 完了', 'first-login-done', ('ここまでで初回登録は完了です。',), walk=nmedia_registered),
    Screen('nmedia', N, '8.お問い合わせ (5) 受付完了', 'inquiry-done', ('お問い合わせ',), walk=nmedia_inquiry_done),
    Screen('nmedia', N, '9.ユーザ管理 (6)-(7) 仮パスワードの発行', 'member-added', ('ユーザ管理', '仮パスワードを発行いたしました', 'ユーザー一覧', '一般'), walk=nmedia_member_added),
    Screen('nmedia', N, '2.初回登録 (7) 利用規約', 'terms', ('利用規約',), '/terms'),
    Screen('nmedia', N, '3.ログイン (5)-(9) ワンタイムパスワード・ロボット認証', 'login-otp', ('ワンタイムパスワード', '私はロボットではありません', 'ログイン', '登録済みメールアドレスをお忘れの方はこちら'), walk=nmedia_otp),
    Screen('nmedia', N, '3.ログイン 登録済みメールアドレスをお忘れの方', 'email-forgotten', ('登録済みメールアドレスをお忘れの方',), '/login/email_forgotten'),
    Screen('nmedia', N, '3.ログイン (9) 契約情報画面', 'home', ('契約情報', 'ユーザ情報', 'mediaひかりのご契約', 'その他のご契約', 'お知らせ'), walk=nmedia_login, login=True),
    Screen('nmedia', N, '4.ご契約内容の確認 (2) 契約回線', 'contracts', ('契約番号', '顧客名', '設置場所住所', '詳細'), '/contracts?category=main', login=True),
    Screen('nmedia', N, '4.ご契約内容の確認 その他のご契約', 'contracts-other', ('契約番号',), '/contracts?category=other', login=True),
    Screen('nmedia', N, '4.ご契約内容の確認 概要情報 / 5.開通案内', 'contract-detail', ('概要情報', 'アクセスライン', 'ひかり電話', 'オプション', '開通案内日付選択', '開通案内ダウンロード', '請求情報'), '/contracts/CAF0000000002', login=True),
    Screen('nmedia', N, '6.ご請求内容の確認 (3) 年度選択', 'billing', ('料金明細', '年度選択'), '/billing', login=True),
    Screen('nmedia', N, '6.ご請求内容の確認 (4)-(6) 料金内訳', 'billing-month', ('料金内訳', '金額', '備考', '小計', '通話明細', '請求書ダウンロード'), walk=nmedia_month, login=True),
    Screen('nmedia', N, '7.通話明細の確認', 'calls', ('通話料金明細', '日時', '利用種類', '通話元', '通話先', '通話時間', '料金', 'CSVダウンロード'), walk=nmedia_calls, login=True),
    Screen('nmedia', N, '8.お問い合わせ / 10. / 11.', 'inquiries', ('お問い合わせ', '種別', '件名', '内容', '送信'), '/inquiries', login=True),
    Screen('nmedia', N, '9.ユーザ管理', 'members', ('ユーザ管理', 'メールアドレス', 'ユーザ名', 'ユーザ種別', '一般', '管理者', 'メール通知', 'あり', 'なし', '登録', 'ユーザー一覧'), '/members', login=True),
]
# fmt: on
