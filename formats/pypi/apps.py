from registry import plugins


class PypiConfig(plugins.FormatAppConfig):
    name = "formats.pypi"
    label = "pypi"
    verbose_name = "PyPI format"
