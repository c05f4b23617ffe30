"""Identity providers and the comparison of a proven identity with an account."""
