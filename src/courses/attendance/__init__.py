"""Attendance per half-day, the completion rule and certificates of completion (issue #19)."""
