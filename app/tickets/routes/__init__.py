"""Ticket routes: where one click sends the ticket (see base.py for the contract)."""
