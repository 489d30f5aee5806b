"""Credential sources, one module each. Every source yields ``Repository`` entries."""
