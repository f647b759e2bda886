"""Planning runs: building solver problems from the database, running them off the event loop, plans."""
