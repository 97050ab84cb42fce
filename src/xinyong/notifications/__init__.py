"""Notifications: each party's to-do list (待办) and notices (站内通知), optionally by e-mail."""
