"""Weighbridge indicator bridge: protocols, readers and register maps."""
