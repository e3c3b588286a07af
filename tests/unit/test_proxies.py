"""The client address: X-Forwarded-For counts only behind a configured trusted proxy (MYPAGE_TRUSTED_PROXIES)."""

from __future__ import annotations

import pytest

from mypage.settings import Settings
from mypage.web.proxies import TrustedProxies, parse_address


def test_no_trusted_proxies_ignores_the_header():
    proxies = TrustedProxies(())
    assert proxies.client_address("127.0.0.1", ["203.0.113.9"]) == "127.0.0.1"
    assert proxies.client_address("198.51.100.7", ["203.0.113.9, 10.0.0.1"]) == "198.51.100.7"


def test_untrusted_peer_with_a_spoofed_header_is_the_peer():
    proxies = TrustedProxies(["10.0.0.0/8"])
    assert proxies.client_address("198.51.100.7", ["10.0.0.5"]) == "198.51.100.7"
    assert proxies.client_address("127.0.0.1", ["203.0.113.9"]) == "127.0.0.1"


def test_trusted_peer_gives_the_client_from_the_header():
    proxies = TrustedProxies(["127.0.0.1"])
    assert proxies.client_address("127.0.0.1", ["203.0.113.9"]) == "203.0.113.9"
    assert proxies.client_address("127.0.0.1", []) == "127.0.0.1"  # no header: the proxy itself
    assert proxies.client_address("127.0.0.1", [""]) == "127.0.0.1"


def test_the_rightmost_untrusted_entry_wins_over_what_the_client_wrote():
    # nginx appends the address it saw ($proxy_add_x_forwarded_for): the client's own entries are on the left.
    proxies = TrustedProxies(["127.0.0.1"])
    assert proxies.client_address("127.0.0.1", ["1.1.1.1, 2.2.2.2, 203.0.113.9"]) == "203.0.113.9"
    # several headers are one list, in order
    assert proxies.client_address("127.0.0.1", ["1.1.1.1", "203.0.113.9"]) == "203.0.113.9"


def test_a_chain_of_trusted_proxies_is_walked():
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8", "fd00::/8"])
    assert proxies.client_address("127.0.0.1", ["6.6.6.6, 203.0.113.9, 10.1.2.3, 10.9.9.9"]) == "203.0.113.9"
    assert proxies.client_address("10.0.0.2", ["203.0.113.9, fd00::1"]) == "203.0.113.9"
    # every hop trusted: the leftmost is the client
    assert proxies.client_address("127.0.0.1", ["10.0.0.7, 10.0.0.8"]) == "10.0.0.7"


def test_garbage_never_becomes_an_address():
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    assert proxies.client_address("127.0.0.1", ["not-an-ip"]) == "127.0.0.1"
    assert proxies.client_address("127.0.0.1", ["203.0.113.9, <script>"]) == "127.0.0.1"
    assert proxies.client_address("127.0.0.1", ["garbage, 10.0.0.3"]) == "10.0.0.3"
    assert proxies.client_address("127.0.0.1", ["1.2.3.4, , 203.0.113.9"]) == "203.0.113.9"
    assert proxies.client_address("127.0.0.1", ["999.1.1.1"]) == "127.0.0.1"
    assert proxies.client_address("127.0.0.1", ["x" * 5000]) == "127.0.0.1"


def test_address_forms_are_normalised():
    assert str(parse_address("203.0.113.9:4321")) == "203.0.113.9"
    assert str(parse_address("[2001:db8::1]:443")) == "2001:db8::1"
    assert str(parse_address("2001:DB8::1")) == "2001:db8::1"
    assert str(parse_address("::ffff:203.0.113.9")) == "203.0.113.9"
    assert parse_address("unknown") is None
    proxies = TrustedProxies(["::1"])
    assert proxies.client_address("::1", ["2001:db8::5"]) == "2001:db8::5"


def test_the_setting_is_read_and_checked():
    assert Settings.from_env({}).trusted_proxies == ()
    settings = Settings.from_env({"MYPAGE_TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/8 ,"})
    assert settings.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
    with pytest.raises(SystemExit, match="MYPAGE_TRUSTED_PROXIES"):
        Settings.from_env({"MYPAGE_TRUSTED_PROXIES": "127.0.0.1, nginx"})


def test_mypage_run_leaves_forwarded_headers_to_the_portal():
    from mypage.cli import server_options

    assert server_options(Settings())["proxy_headers"] is False
