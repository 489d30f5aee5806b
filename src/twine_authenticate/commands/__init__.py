"""One module per command; each is a library entry point that prints nothing and returns an
outcome for the CLI (or any caller) to report."""
