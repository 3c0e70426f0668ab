"""A fake exchange on 127.0.0.1 that speaks each venue's own wire format from recorded payloads."""
