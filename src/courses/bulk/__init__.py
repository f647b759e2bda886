"""Organisations registering many people from a spreadsheet, their invitations, registrants and bills."""
