"""`python -m deploy deploy|plan|destroy`: package, push and tear down the chat stack."""
