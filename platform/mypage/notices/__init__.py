"""お知らせ: notices the tenant's staff write, schedule, publish, pin and expire; shown on the portal's home
page and mailed to members with メール通知 あり when they are published."""
