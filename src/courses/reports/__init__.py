"""Reports over a fiscal year for staff and administrators (the annual report)."""
