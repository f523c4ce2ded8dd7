"""GPG signing with the real gpg (python-gnupg), for the APT and RPM formats.

Nothing here yet: the APT format's issue builds it. Imports nothing from `registry` or `formats`.
"""
