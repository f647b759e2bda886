"""The staff console: courses, sessions, rooms, instructors, sites, staff accounts, organisations."""
