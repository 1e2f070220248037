"""Business rules and transactions. Called from views, webhooks and the CLI alike."""
