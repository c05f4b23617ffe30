"""Identity verification: states, decisions, audit, and the one-time links that start a check."""
