"""The satisfaction survey after a session (受講者アンケート) and its results for staff."""
