"""Names of the small durable facts the service keeps in `service_values`.

Here, at the bottom, so that any layer (the bot's trust command, the identity checks, the
verification effects) names the same row without importing the others.
"""

ADMIN_ROOM_KEY = "admin_room_id"  # the encrypted room where administrators give `!admin`
