"""Entities: one shared entity database where connections across time appear by themselves."""
