"""The application service: what Synapse pushes to us, and the ghost users we own."""
