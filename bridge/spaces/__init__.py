"""Personal spaces: the product's three tabs ("Discussions", "Cas patients", "Téléexpertises")
as Matrix spaces, kept by the bot for each practitioner (`personal.py`)."""
