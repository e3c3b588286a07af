"""お問い合わせ in the console: the inbox, the thread (replies, notes, 対応状況, assignment) and approval."""
