"""Agendas: places, weekly opening rules, motifs, absences, free slots, bookings and holds.

Free slots = opening rules (Europe/Paris) + slots published by practice software − bookings −
live holds − absences − French public holidays. A slot is booked once: see `booking.py`.
"""
