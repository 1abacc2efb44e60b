"""Casewire's shared package: infrastructure and contracts used by every service and the gateway."""
