"""People and sign-in: learner accounts, passwords, sign-in throttling, the learner's own pages and calendar."""
