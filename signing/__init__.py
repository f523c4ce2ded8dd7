"""OpenPGP signing for the APT and RPM formats: keys and signatures with the real gpg in
temporary keyrings (`gpg`), private keys sealed at rest (`sealing`).

Imports nothing from `registry` or `formats`: callers hand key material in and out.
"""
