"""Pure campaign logic (calling windows, pacing, outcome rules), safe inside workflow sandboxes."""
