"""The console's ブランディング, 文言・連絡先 and 機能 editors: each saves into the tenant's open draft of its
configuration overrides (``mypage.overrides``), previews it, and a 管理者 publishes or restores versions."""
