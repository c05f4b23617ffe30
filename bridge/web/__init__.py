"""HTTP surfaces of the service other than the appservice: pages, internal and health."""
