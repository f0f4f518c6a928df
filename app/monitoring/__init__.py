"""The monitor's parts; `app.monitor.Monitor` schedules rounds and applies them through these.

- `round_probe`: one round's probing (the due sites, the status page when due, and the
  wider look when every site fails to connect); `network` judges what that says about
  the user's own network.
- `site_tracker`: one site from check to check (confirmation, flapping, what is shown,
  pending hints, reminders).
- `platform_tracker`: the status page: read at most every 30 s, Retry-After honoured up to
  a cap, one bad read confirmed like a site's.
- `overall`: the one state of the tray icon, and when it is news.
- `history_writer`: the history thread: a round's changes in one transaction, coverage
  heartbeats, the uptime cache, daily pruning.
- `sleep`: a suspended machine noticed from the gap between the wall and monotonic clocks.
- `silences`: who is snoozed or in a maintenance window, round to round, and the events
  that say one began, ended or moved.

Where planned features plug in, without touching the scheduler in `Monitor.tick`:

- Per-site silencing (snooze, maintenance windows; app/silence.py): `SiteTracker.observe`
  and `SiteTracker.reminder` return their events instead of emitting them, and
  `Monitor._observe_sites` / `Monitor._remind` are the one place they are emitted: a
  silenced site's state changes are marked `silenced` there and its reminders held back;
  `Monitor._refresh_silences` (each round) emits the `MaintenanceChanged` and
  `SnoozeChanged` events `SiteSilences.refresh` returns, for the history, and
  `_update_overall` leaves silenced sites out of the icon's state. The site is still
  probed, confirmed and recorded (`HistoryWriter.record` sees every event first).
- A per-round correlation step (several sites failing alike is platform evidence):
  `Monitor._assess_round` returns the round's CheckReport before any site sees it; a pure
  `correlate(report, platform) -> CheckReport` applied at its end changes what every
  tracker observes, in one place.
- Per-site cache-hit share and response-time buckets: `HistoryWriter` batches a round into
  one job on its own thread; per-round figures become a second kind of queued row written
  in that same transaction, into a table added by a step in `app.history.MIGRATIONS`.
"""
