"""Matrix plumbing: the homeserver's admin API, the bot's client, its cross-signing identity."""
