"""``MYPAGE_PLATFORM_HOST``: the platform console's host (development default; none in production until set)."""

from mypage.settings import Settings


def test_the_platform_host_setting():
    assert Settings.from_env({}).platform_host == "platform.localhost"
    assert Settings.from_env({"MYPAGE_ENV": "production", "MYPAGE_SECRET_KEY": "x" * 40}).platform_host == ""
    assert Settings.from_env({"MYPAGE_PLATFORM_HOST": " Console.Example.JP "}).platform_host == "console.example.jp"
