"""The referral (adressage): patient details and their validation (`patient.py`), the booking
transaction and its notices (`service.py`), the booking dialog declaration (`dialog.py`)."""
