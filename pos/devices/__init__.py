"""Devices at the till: printer back-ends, barcode scanners, the cash drawer (adapters)."""
