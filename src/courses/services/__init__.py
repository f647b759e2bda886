"""Business rules and queries, shared by the JSON API, the HTML pages and the CLI."""
