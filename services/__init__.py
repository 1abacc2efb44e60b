"""Casewire nameko services, one package each."""
