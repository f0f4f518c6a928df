"""Ticket routes: where one click sends the ticket. base.py is the contract every route
keeps; configured.py builds the routes a config names (importing it loads the HTTP
stack, so the light modules, base.py above all, are imported without it)."""
