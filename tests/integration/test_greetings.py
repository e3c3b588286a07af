"""Names and greetings: the header greets the contract holder by name; every mail names the addressee first,
then greets with the tenant's own greeting (``mail.greeting``)."""

from feature_support import make_account, make_customer, sign_in


def test_header_greets_the_contract_holder_not_the_login_id(app, client_for):
    customer = make_customer("itscom", "3000101")
    account = make_account("itscom", customer, "holder@itscom.example", email="holder@itscom.example")
    page = sign_in(client_for("itscom"), "itscom", account).get("/")
    assert '<span class="header-nav__name">日本　太郎 様</span>' in page.text
    assert "holder@itscom.example 様" not in page.text

    named = make_account("itscom", customer, "named@itscom.example", display_name="イッツ花子")
    page = sign_in(client_for("itscom"), "itscom", named).get("/")
    assert '<span class="header-nav__name">イッツ花子 様</span>' in page.text


def test_addon_mail_names_the_addressee_before_the_greeting(app, client_for, deliver, portal):
    customer = make_customer("itscom", "3000102", services="internet")
    account = make_account("itscom", customer, "norton@example.jp", email="norton@example.jp", display_name="イッツ太郎")
    client = sign_in(client_for("itscom"), "itscom", account)
    assert client.submit("/security/apply", {}, follow_redirects=False).status_code == 303
    mail = deliver().last_to("norton@example.jp")
    text = deliver().text(mail)
    greeting = f"{portal.tenants.get('itscom').config.names.ja}をご利用いただき、ありがとうございます。"
    assert text.startswith(f"イッツ太郎 様\n\n{greeting}\n"), text[:200]
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert html.index("イッツ太郎 様") < html.index(greeting)


def test_every_mail_of_a_tenant_uses_its_greeting(app, client_for, deliver, portal):
    greeting = portal.tenants.get("nmedia").config.texts["mail.greeting"].ja
    customer = make_customer("nmedia", "1000101")
    account = make_account("nmedia", customer, "gre123", email="greet@example.jp", display_name="日本太郎")
    client = sign_in(client_for("nmedia"), "nmedia", account)
    client.submit("/inquiries", {"category": "other", "subject": "件名", "body": "内容です。"}, follow_redirects=False)
    text = deliver().text(deliver().last_to("greet@example.jp"))
    assert text.startswith(f"日本太郎 様\n\n{greeting}\n"), text[:200]
    assert "をご利用いただき、ありがとうございます。" not in text
