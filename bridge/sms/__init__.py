"""Patient SMS: a durable outbox (`outbox.py`), a provider HTTP client and a development sink
(`provider.py`), the `/_dev/sms` page (`devpage.py`)."""
