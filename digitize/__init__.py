"""Turning scanned files into understood documents: intake, clean-up, OCR, classification, fields."""
