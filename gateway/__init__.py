"""The Flask gateway: the public HTTP API in front of the nameko services."""
