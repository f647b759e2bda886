"""Campus staff's own views: their sessions, rosters and actions, the development mailbox."""
