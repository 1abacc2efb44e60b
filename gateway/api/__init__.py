"""The gateway's blueprints, one per area of API.md."""
