"""The `lifeline` program: above both layers, it picks the tray app (ui/) or the
headless tool (app/). See lifeline.entry."""
