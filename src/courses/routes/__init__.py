"""HTTP routes: thin handlers that parse input, call one service and return a schema or a page."""
