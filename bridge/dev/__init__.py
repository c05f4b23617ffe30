"""Development and test stand-ins for providers outside our reach (never used in production
unless no real provider is configured, and then only on loopback)."""
