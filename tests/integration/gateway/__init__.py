"""The gateway in-process over the real broker, with a real audit service behind it."""
