"""The practice desk: order entry in trader's words, the session core, the screen, the demo."""
