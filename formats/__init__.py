"""One Django app per package format; each registers a registry.plugins.FormatPlugin."""
