"""Guests: colleagues invited before they are on Confrère, and how they become members.

- `models.py`: pending invitations, per-guest contact (last mail, opt-out), promotion jobs;
- `standins.py`: the stand-in user ids (directory ghosts, e-mail guests) and their state for
  the access rules;
- `invitations.py`: recording an invitation and the (at most daily) e-mail;
- `tokens.py`: the signed signup pre-fill and unsubscribe tokens;
- `promotion.py`: `on_verified` + `PromotionWorker` — invite and join the verified person to
  every pending room, the stand-in leaves.
"""
