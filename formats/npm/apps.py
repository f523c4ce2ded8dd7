from registry import plugins


class NpmConfig(plugins.FormatAppConfig):
    name = "formats.npm"
    label = "npm"
    verbose_name = "npm format"
